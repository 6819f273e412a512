#include "media/probe.h"

#include <cmath>
#include <cstring>
#include <string_view>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace reprise::media {
namespace {

StreamType TypeOf(AVMediaType type) {
  switch (type) {
    case AVMEDIA_TYPE_VIDEO:
      return StreamType::kVideo;
    case AVMEDIA_TYPE_AUDIO:
      return StreamType::kAudio;
    case AVMEDIA_TYPE_SUBTITLE:
      return StreamType::kSubtitle;
    case AVMEDIA_TYPE_DATA:
      return StreamType::kData;
    case AVMEDIA_TYPE_ATTACHMENT:
      return StreamType::kAttachment;
    default:
      return StreamType::kUnknown;
  }
}

bool Valid(AVRational rate) { return rate.num > 0 && rate.den > 0; }

// Image demuxers ("png_pipe", "jpeg_pipe", "image2") read picture files: their single
// video stream is a still image, whatever frame rate libavformat invents for it.
bool IsImageDemuxer(std::string_view name) {
  return name == "image2" ||
         (name.size() > 5 && name.substr(name.size() - 5) == "_pipe" && name != "image2pipe");
}

StreamInfo ProbeStream(const AVFormatContext& format, const AVStream& st) {
  const AVCodecParameters& par = *st.codecpar;
  StreamInfo info;
  info.index = st.index;
  info.type = TypeOf(par.codec_type);
  info.codec = avcodec_get_name(par.codec_id);
  if (const char* profile = avcodec_profile_name(par.codec_id, par.profile)) {
    info.profile = profile;
  }
  if (par.bit_rate > 0) info.bit_rate = par.bit_rate;
  if (const AVDictionaryEntry* lang = av_dict_get(st.metadata, "language", nullptr, 0)) {
    info.language = lang->value;
  }
  if (HasTimestamp(st.duration) && st.duration > 0) {
    info.duration_seconds = TimestampSeconds(st.duration, st.time_base);
  }

  if (info.type == StreamType::kVideo) {
    if (par.width > 0) info.width = par.width;
    if (par.height > 0) info.height = par.height;
    AVRational sar =
        Valid(par.sample_aspect_ratio) ? par.sample_aspect_ratio : st.sample_aspect_ratio;
    if (Valid(sar)) info.sample_aspect_ratio = av_q2d(sar);
    size_t size = 0;
    const uint8_t* matrix = av_stream_get_side_data(&st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (matrix != nullptr && size >= 9 * sizeof(int32_t)) {
      int32_t values[9];
      std::memcpy(values, matrix, sizeof values);  // side data carries no alignment promise
      info.rotation = ClockwiseRotation(values);
    }
    info.attached_picture = (st.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
    info.still_image = !info.attached_picture && IsImageDemuxer(format.iformat->name);
    if (!info.attached_picture && !info.still_image) {
      AVRational rate = Valid(st.avg_frame_rate) ? st.avg_frame_rate : st.r_frame_rate;
      if (Valid(rate)) info.frame_rate = av_q2d(rate);
    }
    if (st.nb_frames > 0) info.frame_count = st.nb_frames;
    if (info.attached_picture || info.still_image) info.frame_count = 1;
    if (par.format >= 0) {
      if (const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par.format))) {
        info.pixel_format = name;
      }
    }
  } else if (info.type == StreamType::kAudio) {
    if (par.sample_rate > 0) info.sample_rate = par.sample_rate;
    if (par.ch_layout.nb_channels > 0) {
      info.channels = par.ch_layout.nb_channels;
      // A file that does not say (a WAV without channel mask) is played with the
      // default layout for its channel count; name that rather than "1 channels".
      AVChannelLayout layout = par.ch_layout;
      if (layout.order == AV_CHANNEL_ORDER_UNSPEC) {
        av_channel_layout_default(&layout, par.ch_layout.nb_channels);
      }
      char name[128] = {};
      if (av_channel_layout_describe(&layout, name, sizeof name) > 0) info.channel_layout = name;
    }
  }
  return info;
}

}  // namespace

int ClockwiseRotation(const int32_t* display_matrix) {
  // av_display_rotation_get() measures counter-clockwise.
  double degrees = -av_display_rotation_get(display_matrix);
  if (std::isnan(degrees)) return 0;
  long quarter_turns = std::lround(degrees / 90.0) % 4;
  if (quarter_turns < 0) quarter_turns += 4;
  return static_cast<int>(quarter_turns * 90);
}

MediaInfo Probe(const Input& input) {
  const AVFormatContext& format = *input.format();
  MediaInfo info;
  info.container = format.iformat->name;
  if (format.iformat->long_name != nullptr) info.container_long = format.iformat->long_name;
  if (HasTimestamp(format.duration) && format.duration > 0) {
    info.duration_seconds = static_cast<double>(format.duration) / AV_TIME_BASE;
  }
  if (format.bit_rate > 0) info.bit_rate = format.bit_rate;
  info.size_bytes = input.reader().Size();
  for (unsigned i = 0; i < format.nb_streams; ++i) {
    info.streams.push_back(ProbeStream(format, *format.streams[i]));
  }
  return info;
}

Result<MediaInfo> ProbeReader(ByteReader& reader) {
  auto input = Input::Open(reader);
  if (!input) return Fail(input.error());
  return Probe(**input);
}

}  // namespace reprise::media
