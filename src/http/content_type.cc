#include "http/content_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace reprise::http {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes = {{
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
    {"webp", "image/webp"},
    {"gif", "image/gif"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},
    {"flac", "audio/flac"},
    {"m4a", "audio/mp4"},
    {"ogg", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"mov", "video/quicktime"},
    {"webm", "video/webm"},
    {"json", "application/json"},
    {"vtt", "text/vtt"},
    {"txt", "text/plain; charset=utf-8"},
}};

}  // namespace

std::string_view ContentTypeForKey(std::string_view key) {
  std::string_view name = key.substr(key.find_last_of('/') + 1);
  size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return kOctetStream;  // ".m3u8" has no stem
  std::string extension(name.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [known, type] : kTypes) {
    if (extension == known) return type;
  }
  return kOctetStream;
}

}  // namespace reprise::http
