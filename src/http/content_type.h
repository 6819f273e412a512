// The Content-Type a blob is served with, chosen by the extension of its key's last segment
// (case-insensitive): the types the stages write (OutputBlob::content_type says the same for
// derivatives the catalog knows) plus the usual media a user uploads or imports. A key without
// a known extension — originals are stored by hash, without one — is
// application/octet-stream; the route uses the catalog's type when it has one. Pure,
// thread-safe.
#pragma once

#include <string_view>

namespace reprise::http {

inline constexpr std::string_view kOctetStream = "application/octet-stream";

[[nodiscard]] std::string_view ContentTypeForKey(std::string_view key);

}  // namespace reprise::http
