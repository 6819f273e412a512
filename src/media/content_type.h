// Media types (RFC 6838 "type/subtype") of the files reprise stores, so a blob store that
// keeps types (S3) serves each blob with the right Content-Type:
//
// - ContentTypeForName: by the extension of a name's last '/'-segment, case-insensitive:
//   the types the stages write (m3u8, ts, png, jpg, mp3, json…) plus the usual media a user
//   uploads or imports. A name without a known extension is application/octet-stream.
// - ContentTypeForContainer: by what probing found (MediaInfo::container, libavformat's
//   short names such as "mov,mp4,m4a,3gp,3g2,mj2"), audio-only or not; "" when the
//   container is not one of the usual ones.
// - OriginalContentType: an original's type, from the probe when there is one, else from
//   its name, else application/octet-stream.
// Pure, thread-safe.
#pragma once

#include <string_view>

namespace reprise::media {

inline constexpr std::string_view kOctetStream = "application/octet-stream";

[[nodiscard]] std::string_view ContentTypeForName(std::string_view name);
[[nodiscard]] std::string_view ContentTypeForContainer(std::string_view container, bool audio_only);
[[nodiscard]] std::string_view OriginalContentType(std::string_view container, bool audio_only,
                                                   std::string_view name);

}  // namespace reprise::media
