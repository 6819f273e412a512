// What probing an input tells: the container and every stream, in plain types (no
// FFmpeg headers here), plus light views of decoded data handed to stages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" {
struct AVFrame;
struct AVPacket;
}

namespace reprise::media {

enum class StreamType { kVideo, kAudio, kSubtitle, kData, kAttachment, kUnknown };

struct StreamInfo {
  int index = 0;
  StreamType type = StreamType::kUnknown;
  std::string codec;    // "h264"
  std::string profile;  // "High", empty when unknown
  // Video: coded size; display size swaps them when rotation is 90 or 270.
  std::optional<int> width;
  std::optional<int> height;
  int rotation = 0;  // display rotation in degrees clockwise, one of 0, 90, 180, 270
  std::optional<double> frame_rate;
  std::string pixel_format;
  bool attached_picture = false;  // cover art stored as a video stream
  // Audio
  std::optional<int> sample_rate;
  std::optional<int> channels;
  std::string channel_layout;  // "stereo"
  std::optional<int64_t> bit_rate;
  std::string language;  // ISO 639 tag from the stream metadata, empty when absent
  std::optional<double> duration_seconds;
};

struct MediaInfo {
  std::string container;       // libavformat short name(s)
  std::string container_long;  // human name
  std::optional<double> duration_seconds;
  std::optional<int64_t> bit_rate;
  int64_t size_bytes = -1;
  std::vector<StreamInfo> streams;

  // The main video stream (not cover art), if any.
  const StreamInfo* BestVideo() const;
  // The cover picture stream, if any.
  const StreamInfo* CoverPicture() const;
  const StreamInfo* BestAudio() const;
};

// JSON stored as the probe derivative's metadata.
nlohmann::json ToJson(const MediaInfo& info);

// A decoded video frame already converted as the stage requested.
struct VideoFrame {
  const AVFrame* frame = nullptr;  // pixel data, width/height/format set
  double pts_seconds = 0;
  bool from_cover = false;  // decoded from an attached picture
};

// Decoded audio in the requested format.
struct AudioBuffer {
  const AVFrame* frame = nullptr;
  double pts_seconds = 0;
};

struct PacketView {
  const AVPacket* packet = nullptr;
  int stream_index = 0;
};

}  // namespace reprise::media
