// What probing an input tells: the container and every stream, in plain types (no
// FFmpeg headers here), plus the light views of decoded data handed to stages and the
// requests with which a consumer of the decode pass says what it wants.
//
// Everything here is a value type; none of it is tied to an open input except the
// AVFrame/AVPacket pointers in the views, which are valid only during the call that
// receives them (take a reference with av_frame_ref/CloneFrame to keep a frame), and a
// packet's stream parameters (valid until the decode pass returns). The one FFmpeg type
// held by value is AVRational, a plain pair of ints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" {
#include <libavutil/rational.h>
struct AVCodecParameters;
struct AVFrame;
struct AVPacket;
}

namespace reprise::media {

enum class StreamType { kVideo, kAudio, kSubtitle, kData, kAttachment, kUnknown };

// What an input is as a whole, decided from its streams (see MediaInfo::Kind()).
enum class MediaKind { kUnknown, kVideo, kAudio, kImage };

struct StreamInfo {
  int index = 0;
  StreamType type = StreamType::kUnknown;
  std::string codec;    // "h264"
  std::string profile;  // "High", empty when unknown
  // Video: coded size; the display size applies the sample aspect ratio and swaps them
  // when rotation is 90 or 270.
  std::optional<int> width;
  std::optional<int> height;
  double sample_aspect_ratio = 1.0;  // pixel width / pixel height; 1 when unknown
  int rotation = 0;  // display rotation in degrees clockwise, one of 0, 90, 180, 270
  std::optional<double> frame_rate;
  std::optional<int64_t> frame_count;  // from the container header, when it says
  std::string pixel_format;
  bool attached_picture = false;  // cover art stored as a video stream
  bool still_image = false;       // a picture file (PNG, JPEG), not a moving stream
  // Audio
  std::optional<int> sample_rate;
  std::optional<int> channels;
  std::string channel_layout;  // "stereo"
  std::optional<int64_t> bit_rate;
  std::string language;  // ISO 639 tag from the stream metadata, empty when absent
  std::optional<double> duration_seconds;

  // Display size of a video stream (sample aspect and rotation applied); nullopt for
  // streams without a size.
  [[nodiscard]] std::optional<int> DisplayWidth() const;
  [[nodiscard]] std::optional<int> DisplayHeight() const;
};

struct MediaInfo {
  std::string container;       // libavformat short name(s)
  std::string container_long;  // human name
  std::optional<double> duration_seconds;
  std::optional<int64_t> bit_rate;
  int64_t size_bytes = -1;
  std::vector<StreamInfo> streams;

  // The main video stream (not cover art): the largest picture, then the lowest index.
  [[nodiscard]] const StreamInfo* BestVideo() const;
  // The cover picture stream, if any.
  [[nodiscard]] const StreamInfo* CoverPicture() const;
  // The main audio stream: the most channels, then the lowest index.
  [[nodiscard]] const StreamInfo* BestAudio() const;
  // kVideo when the main video stream moves (anything but a still image or a single
  // frame); otherwise kAudio when there is audio (with or without cover art); otherwise
  // kImage when there is a still picture; otherwise kUnknown.
  [[nodiscard]] MediaKind Kind() const;
};

std::string_view Name(StreamType type);
std::string_view Name(MediaKind kind);

// JSON stored as the probe derivative's metadata. Absent values are left out.
nlohmann::json ToJson(const MediaInfo& info);

// How a consumer wants decoded video. The decode pass converts each decoded frame once
// per distinct request, however many consumers share it.
struct VideoRequest {
  int width = 0;               // output width; 0 keeps the display width
  bool even_height = true;     // round the computed height to an even number
  bool apply_rotation = true;  // rotate to the display orientation first
  int pixel_format = -1;       // AVPixelFormat; -1 keeps the decoder's

  bool operator==(const VideoRequest&) const = default;
};

// How a consumer wants decoded audio; resampled once per distinct request.
struct AudioRequest {
  int sample_rate = 0;     // 0 keeps the source rate
  int channels = 0;        // 0 keeps the source channels
  int sample_format = -1;  // AVSampleFormat; -1 keeps the decoder's

  bool operator==(const AudioRequest&) const = default;
};

// A decoded video frame already converted as requested.
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

// A demuxed packet as the demuxer gave it, with what a remuxer needs to copy it: its
// stream's codec parameters (extradata included) and time base, and the timestamp of
// the presentation start in that time base (subtract it to count from 0, as the
// decoded views' pts_seconds do).
struct PacketView {
  const AVPacket* packet = nullptr;
  int stream_index = 0;
  const AVCodecParameters* parameters = nullptr;
  AVRational time_base{1, 1};
  int64_t start_offset = 0;
  bool main_video = false;  // the stream MediaInfo::BestVideo() names
  bool main_audio = false;  // the stream MediaInfo::BestAudio() names
};

// A consumer's answer after each delivery: keep feeding me; I have all I need; or I
// want no more of this kind of delivery (video frames, audio, packets) but still want
// the other kinds I asked for (the same as kDone when there are none).
enum class Feed { kMore, kDone, kDoneWithThis };

}  // namespace reprise::media
