#include "blob/keys.h"

#include <cstddef>

namespace reprise::blob {
namespace {

constexpr size_t kMaxKeyBytes = 1024;
// Enough of a key to recognise it in a message without echoing a megabyte back.
constexpr size_t kMaxShownBytes = 80;

// Keys reach us from requests and file names, so a message shows them escaped: a NUL,
// an escape sequence or a newline in a key must not garble a terminal or forge log lines.
std::string Shown(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : key.substr(0, kMaxShownBytes)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  out += key.size() > kMaxShownBytes ? "\"..." : "\"";
  return out;
}

Result<void> Invalid(std::string_view key, std::string_view why) {
  return Fail(ErrorCode::kInvalidArgument,
              "invalid blob key " + Shown(key) + ": " + std::string(why));
}

}  // namespace

Result<void> ValidateKey(std::string_view key) {
  if (key.empty()) return Invalid(key, "empty");
  if (key.size() > kMaxKeyBytes) return Invalid(key, "longer than 1024 bytes");
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return Invalid(key, "contains NUL");
    if (c == '\\') return Invalid(key, "contains a backslash");
    if (byte < 0x20 || byte == 0x7f) return Invalid(key, "contains a control character");
    // Printable ASCII only: non-ASCII bytes compare and normalise differently across file
    // systems and object stores, so the same key could name two objects.
    if (byte > 0x7f) return Invalid(key, "contains a non-ASCII byte");
  }
  if (key.front() == '/') return Invalid(key, "absolute (starts with '/')");
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view segment =
        key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (segment.empty()) return Invalid(key, "empty segment");
    if (segment == "." || segment == "..") return Invalid(key, "'.' or '..' segment");
    // Dot-names are the stores' own (the directory store keeps temporaries in ".tmp"), so
    // every backend refuses them alike.
    if (segment.front() == '.') return Invalid(key, "segment starts with '.'");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return {};
}

std::string OriginalKey(const Sha256Digest& digest) {
  std::string hex = HexLower(digest);
  // Two hex digits of fan-out keep any one directory (or listing page) to 1/256 of them.
  return "originals/" + hex.substr(0, 2) + "/" + hex;
}

std::string DerivativeKey(std::string_view asset_id, std::string_view stage,
                          std::string_view attempt, std::string_view file) {
  std::string key = "assets/";
  key.append(asset_id).append("/").append(stage).append("/").append(attempt).append("/");
  key.append(file);
  return key;
}

}  // namespace reprise::blob
