// The Content-Type a blob is served with, chosen by the extension of its key's last segment
// (case-insensitive; the table is media::ContentTypeForName): the types the stages write
// (OutputBlob::content_type says the same for derivatives the catalog knows) plus the usual
// media a user uploads or imports. A key without a known extension — originals are stored
// by hash, without one — is application/octet-stream. Pure, thread-safe.
#pragma once

#include <string_view>

#include "media/content_type.h"

namespace reprise::http {

inline constexpr std::string_view kOctetStream = media::kOctetStream;

[[nodiscard]] std::string_view ContentTypeForKey(std::string_view key);

}  // namespace reprise::http
