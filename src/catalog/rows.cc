#include "catalog/rows.h"

#include <fmt/format.h>

namespace reprise::catalog {
namespace {

void Append(std::string& out, char tag, std::string_view bytes) {
  out += tag;
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
}

}  // namespace

std::string EncodeRow(const Row& row) {
  std::string out;
  for (const Value& value : row) {
    switch (value.index()) {
      case 0:
        out += 'N';
        break;
      case 1:
        Append(out, 'I', std::to_string(std::get<int64_t>(value)));
        break;
      case 2:
        Append(out, 'R', fmt::format("{}", std::get<double>(value)));
        break;
      case 3:
        Append(out, 'T', std::get<std::string>(value));
        break;
      default:
        Append(out, 'B', std::get<Bytes>(value).data);
        break;
    }
  }
  out += '\n';
  return out;
}

std::string QuoteName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string QuoteNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += QuoteName(name);
  }
  return out;
}

}  // namespace reprise::catalog
