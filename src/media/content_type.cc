#include "media/content_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace reprise::media {
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

std::string_view ContentTypeForName(std::string_view key) {
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

std::string_view ContentTypeForContainer(std::string_view container, bool audio_only) {
  // The first short name says the family: "mov,mp4,m4a,3gp,3g2,mj2" -> "mov".
  std::string_view family = container.substr(0, container.find(','));
  struct Known {
    std::string_view family;
    std::string_view video;
    std::string_view audio;
  };
  static constexpr std::array<Known, 14> kContainers = {{
      {"mov", "video/mp4", "audio/mp4"},
      {"matroska", "video/webm", "audio/webm"},
      {"mp3", "audio/mpeg", "audio/mpeg"},
      {"wav", "audio/wav", "audio/wav"},
      {"flac", "audio/flac", "audio/flac"},
      {"ogg", "video/ogg", "audio/ogg"},
      {"aac", "audio/aac", "audio/aac"},
      {"mpegts", "video/mp2t", "video/mp2t"},
      {"avi", "video/x-msvideo", "video/x-msvideo"},
      {"png_pipe", "image/png", "image/png"},
      {"jpeg_pipe", "image/jpeg", "image/jpeg"},
      {"webp_pipe", "image/webp", "image/webp"},
      {"gif", "image/gif", "image/gif"},
      {"aiff", "audio/aiff", "audio/aiff"},
  }};
  for (const auto& known : kContainers) {
    if (family == known.family) return audio_only ? known.audio : known.video;
  }
  return {};
}

std::string_view OriginalContentType(std::string_view container, bool audio_only,
                                     std::string_view name) {
  std::string_view probed = ContentTypeForContainer(container, audio_only);
  return probed.empty() ? ContentTypeForName(name) : probed;
}

}  // namespace reprise::media
