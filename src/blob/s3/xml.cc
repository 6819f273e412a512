#include "blob/s3/xml.h"

#include <expat.h>

#include <memory>
#include <vector>

namespace reprise::blob::s3 {
namespace {

// The one owner of expat parsers.
struct ExpatDeleter {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};
using ExpatPtr = std::unique_ptr<XML_ParserStruct, ExpatDeleter>;

struct Walk {
  const XmlVisitor* visit = nullptr;
  std::string path;
  std::vector<size_t> starts;  // where each open element's name begins in `path`
  std::string text;
};

// "{namespace}Name" or "prefix:Name" come out as "Name": S3 documents put everything in
// one namespace, and callers name elements without it.
std::string_view LocalName(const XML_Char* name) {
  std::string_view full(name);
  size_t cut = full.find_last_of(":}");
  return cut == std::string_view::npos ? full : full.substr(cut + 1);
}

void OnStart(void* data, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto* walk = static_cast<Walk*>(data);
  walk->starts.push_back(walk->path.size());
  if (!walk->path.empty()) walk->path.push_back('/');
  walk->path.append(LocalName(name));
  walk->text.clear();
}

void OnEnd(void* data, const XML_Char* /*name*/) {
  auto* walk = static_cast<Walk*>(data);
  (*walk->visit)(walk->path, walk->text);
  walk->path.resize(walk->starts.back());
  walk->starts.pop_back();
  walk->text.clear();
}

void OnText(void* data, const XML_Char* text, int length) {
  static_cast<Walk*>(data)->text.append(text, static_cast<size_t>(length));
}

}  // namespace

Result<void> ParseXml(std::string_view document, const XmlVisitor& on_close) {
  ExpatPtr parser(XML_ParserCreate("UTF-8"));
  if (!parser) return Fail(ErrorCode::kInternal, "cannot create an XML parser");
  Walk walk;
  walk.visit = &on_close;
  XML_SetUserData(parser.get(), &walk);
  XML_SetElementHandler(parser.get(), &OnStart, &OnEnd);
  XML_SetCharacterDataHandler(parser.get(), &OnText);
  if (XML_Parse(parser.get(), document.data(), static_cast<int>(document.size()), 1) !=
      XML_STATUS_OK) {
    return Fail(ErrorCode::kIo, std::string("S3 answered malformed XML: ") +
                                    XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                                    std::to_string(XML_GetCurrentLineNumber(parser.get())));
  }
  return {};
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace reprise::blob::s3
