// The little XML that S3 answers with (ListBucketResult, InitiateMultipartUploadResult,
// CompleteMultipartUploadResult, Error), read with expat: every element's text is handed
// over as the element closes, named by its path from the root without namespaces
// ("ListBucketResult/Contents/Key"). Containers close too, with the text between their
// children (whitespace, usually), so a caller can finish a record on "…/Contents".
//
// Errors: kIo when the document is not well-formed XML (naming expat's reason and line).
// No external entities are loaded, and expat (2.4 and later) stops entity amplification.
// Thread-safety: reentrant.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace reprise::blob::s3 {

using XmlVisitor = std::function<void(std::string_view path, std::string_view text)>;

[[nodiscard]] Result<void> ParseXml(std::string_view document, const XmlVisitor& on_close);

// Escapes text for an XML element's content (&, <, >, and quotes).
std::string XmlEscape(std::string_view text);

}  // namespace reprise::blob::s3
