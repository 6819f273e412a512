#include "http/content_type.h"

#include "media/content_type.h"

namespace reprise::http {

std::string_view ContentTypeForKey(std::string_view key) { return media::ContentTypeForName(key); }

}  // namespace reprise::http
