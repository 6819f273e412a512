#include "media/media_info.h"

#include <cmath>

namespace reprise::media {
namespace {

bool SwapsSides(int rotation) { return rotation == 90 || rotation == 270; }

// Coded size with the sample aspect ratio applied to the width, as players show it.
std::optional<int> AspectWidth(const StreamInfo& stream) {
  if (!stream.width) return std::nullopt;
  if (stream.sample_aspect_ratio <= 0 || stream.sample_aspect_ratio == 1.0) return stream.width;
  return static_cast<int>(std::lround(*stream.width * stream.sample_aspect_ratio));
}

int64_t Area(const StreamInfo& stream) {
  return static_cast<int64_t>(stream.width.value_or(0)) * stream.height.value_or(0);
}

}  // namespace

std::optional<int> StreamInfo::DisplayWidth() const {
  return SwapsSides(rotation) ? height : AspectWidth(*this);
}

std::optional<int> StreamInfo::DisplayHeight() const {
  return SwapsSides(rotation) ? AspectWidth(*this) : height;
}

const StreamInfo* MediaInfo::BestVideo() const {
  const StreamInfo* best = nullptr;
  for (const auto& stream : streams) {
    if (stream.type != StreamType::kVideo || stream.attached_picture) continue;
    if (best == nullptr || Area(stream) > Area(*best)) best = &stream;
  }
  return best;
}

const StreamInfo* MediaInfo::CoverPicture() const {
  for (const auto& stream : streams) {
    if (stream.type == StreamType::kVideo && stream.attached_picture) return &stream;
  }
  return nullptr;
}

const StreamInfo* MediaInfo::BestAudio() const {
  const StreamInfo* best = nullptr;
  for (const auto& stream : streams) {
    if (stream.type != StreamType::kAudio) continue;
    if (best == nullptr || stream.channels.value_or(0) > best->channels.value_or(0)) {
      best = &stream;
    }
  }
  return best;
}

MediaKind MediaInfo::Kind() const {
  const StreamInfo* video = BestVideo();
  bool moving = video != nullptr && !video->still_image && video->frame_count != 1;
  if (moving) return MediaKind::kVideo;
  if (BestAudio() != nullptr) return MediaKind::kAudio;
  if (video != nullptr) return MediaKind::kImage;
  return MediaKind::kUnknown;
}

std::string_view Name(StreamType type) {
  switch (type) {
    case StreamType::kVideo:
      return "video";
    case StreamType::kAudio:
      return "audio";
    case StreamType::kSubtitle:
      return "subtitle";
    case StreamType::kData:
      return "data";
    case StreamType::kAttachment:
      return "attachment";
    case StreamType::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view Name(MediaKind kind) {
  switch (kind) {
    case MediaKind::kVideo:
      return "video";
    case MediaKind::kAudio:
      return "audio";
    case MediaKind::kImage:
      return "image";
    case MediaKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

nlohmann::json ToJson(const MediaInfo& info) {
  nlohmann::json doc = nlohmann::json::object();
  doc["container"] = info.container;
  doc["container_long"] = info.container_long;
  doc["kind"] = Name(info.Kind());
  if (info.duration_seconds) doc["duration"] = *info.duration_seconds;
  if (info.bit_rate) doc["bit_rate"] = *info.bit_rate;
  if (info.size_bytes >= 0) doc["size"] = info.size_bytes;
  nlohmann::json streams = nlohmann::json::array();
  for (const auto& stream : info.streams) {
    nlohmann::json s = {{"index", stream.index}, {"type", Name(stream.type)}};
    if (!stream.codec.empty()) s["codec"] = stream.codec;
    if (!stream.profile.empty()) s["profile"] = stream.profile;
    if (stream.type == StreamType::kVideo) {
      if (stream.width) s["width"] = *stream.width;
      if (stream.height) s["height"] = *stream.height;
      if (auto w = stream.DisplayWidth()) s["display_width"] = *w;
      if (auto h = stream.DisplayHeight()) s["display_height"] = *h;
      if (stream.sample_aspect_ratio != 1.0) s["sample_aspect_ratio"] = stream.sample_aspect_ratio;
      s["rotation"] = stream.rotation;
      if (stream.frame_rate) s["frame_rate"] = *stream.frame_rate;
      if (stream.frame_count) s["frame_count"] = *stream.frame_count;
      if (!stream.pixel_format.empty()) s["pixel_format"] = stream.pixel_format;
      s["attached_picture"] = stream.attached_picture;
      s["still_image"] = stream.still_image;
    }
    if (stream.type == StreamType::kAudio) {
      if (stream.sample_rate) s["sample_rate"] = *stream.sample_rate;
      if (stream.channels) s["channels"] = *stream.channels;
      if (!stream.channel_layout.empty()) s["channel_layout"] = stream.channel_layout;
    }
    if (stream.bit_rate) s["bit_rate"] = *stream.bit_rate;
    if (!stream.language.empty()) s["language"] = stream.language;
    if (stream.duration_seconds) s["duration"] = *stream.duration_seconds;
    streams.push_back(std::move(s));
  }
  doc["streams"] = std::move(streams);
  return doc;
}

}  // namespace reprise::media
