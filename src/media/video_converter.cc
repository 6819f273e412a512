#include "media/video_converter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace reprise::media {
namespace {

bool Valid(AVRational rate) { return rate.num > 0 && rate.den > 0; }

bool SwapsSides(int rotation) { return rotation == 90 || rotation == 270; }

// A format can be turned by moving whole pixels plane by plane when every plane stores
// fixed-size pixels and chroma is subsampled alike in both directions (a quarter turn
// swaps the axes, so 4:2:2 would become 2:4:2, which no format describes).
bool Rotatable(const AVPixFmtDescriptor& desc) {
  if ((desc.flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)) !=
      0) {
    return false;
  }
  if (desc.log2_chroma_w != desc.log2_chroma_h) return false;
  for (int plane = 0; plane < 4; ++plane) {
    int step = -1;
    for (int c = 0; c < desc.nb_components; ++c) {
      if (desc.comp[c].plane != plane) continue;
      if (step >= 0 && desc.comp[c].step != step) return false;
      step = desc.comp[c].step;
    }
  }
  return true;
}

// Where to do the turn when the requested format cannot be turned directly.
AVPixelFormat RotatableStandIn(const AVPixFmtDescriptor& desc) {
  bool alpha = (desc.flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
  if ((desc.flags & AV_PIX_FMT_FLAG_RGB) != 0) return alpha ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
  return alpha ? AV_PIX_FMT_YUVA444P : AV_PIX_FMT_YUV444P;
}

int PixelBytes(const AVPixFmtDescriptor& desc, int plane) {
  for (int c = 0; c < desc.nb_components; ++c) {
    if (desc.comp[c].plane == plane) return desc.comp[c].step;
  }
  return 0;
}

bool IsChromaPlane(const AVPixFmtDescriptor& desc, int plane) {
  if ((desc.flags & AV_PIX_FMT_FLAG_RGB) != 0) return false;
  return plane == 1 || plane == 2;
}

int Shifted(int size, int shift) { return -((-size) >> shift); }  // ceil(size / 2^shift)

Result<FramePtr> NewVideoFrame(int width, int height, AVPixelFormat format) {
  FramePtr frame = NewFrame();
  frame->width = width;
  frame->height = height;
  frame->format = format;
  int rc = av_frame_get_buffer(frame.get(), 0);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot allocate a video frame"));
  return frame;
}

// Quarter turns clockwise, plane by plane; `to` is allocated with the swapped size.
void Turn(const AVFrame& from, AVFrame& to, int rotation) {
  const AVPixFmtDescriptor& desc = *av_pix_fmt_desc_get(static_cast<AVPixelFormat>(from.format));
  for (int plane = 0; plane < 4 && from.data[plane] != nullptr; ++plane) {
    int bytes = PixelBytes(desc, plane);
    bool chroma = IsChromaPlane(desc, plane);
    int src_w = chroma ? Shifted(from.width, desc.log2_chroma_w) : from.width;
    int src_h = chroma ? Shifted(from.height, desc.log2_chroma_h) : from.height;
    int dst_w = SwapsSides(rotation) ? src_h : src_w;
    int dst_h = SwapsSides(rotation) ? src_w : src_h;
    const uint8_t* src = from.data[plane];
    uint8_t* dst = to.data[plane];
    const int src_stride = from.linesize[plane];
    const int dst_stride = to.linesize[plane];
    for (int dy = 0; dy < dst_h; ++dy) {
      uint8_t* out = dst + static_cast<ptrdiff_t>(dy) * dst_stride;
      for (int dx = 0; dx < dst_w; ++dx) {
        int sx = 0;
        int sy = 0;
        if (rotation == 90) {  // the left column becomes the top row
          sx = dy;
          sy = src_h - 1 - dx;
        } else if (rotation == 270) {  // the right column becomes the top row
          sx = src_w - 1 - dy;
          sy = dx;
        } else {  // 180
          sx = src_w - 1 - dx;
          sy = src_h - 1 - dy;
        }
        const uint8_t* in =
            src + static_cast<ptrdiff_t>(sy) * src_stride + static_cast<ptrdiff_t>(sx) * bytes;
        std::memcpy(out + static_cast<ptrdiff_t>(dx) * bytes, in, static_cast<size_t>(bytes));
      }
    }
  }
}

}  // namespace

FrameSize VideoConverter::OutputSize(const VideoRequest& request, int width, int height,
                                     AVRational sample_aspect, int rotation) {
  double aspect_width = width;
  if (Valid(sample_aspect)) aspect_width = width * av_q2d(sample_aspect);
  bool swap = request.apply_rotation && SwapsSides(rotation);
  double display_w = swap ? height : aspect_width;
  double display_h = swap ? aspect_width : height;
  FrameSize size;
  size.width = request.width > 0 ? request.width : static_cast<int>(std::lround(display_w));
  size.width = std::max(size.width, 1);
  double h = size.width * display_h / display_w;
  if (request.even_height) {
    size.height = std::max(2, static_cast<int>(std::lround(h / 2.0)) * 2);
  } else {
    size.height = std::max(1, static_cast<int>(std::lround(h)));
  }
  return size;
}

Result<FramePtr> VideoConverter::Scale(SwsPtr& scaler, const AVFrame& source, FrameSize size,
                                       AVPixelFormat format) {
  auto source_format = static_cast<AVPixelFormat>(source.format);
  SwsContext* context = sws_getCachedContext(
      scaler.release(), source.width, source.height, source_format, size.width, size.height, format,
      SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
  scaler.reset(context);
  if (context == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, std::string("cannot convert video from ") +
                                                 av_get_pix_fmt_name(source_format) + " to " +
                                                 av_get_pix_fmt_name(format));
  }
  // Full-range YUV tagged only on the frame (not by a yuvj format) must be said
  // explicitly, or levels get squeezed twice.
  if (source.color_range == AVCOL_RANGE_JPEG) {
    int* inv_table = nullptr;
    int* table = nullptr;
    int src_range = 0;
    int dst_range = 0;
    int brightness = 0;
    int contrast = 0;
    int saturation = 0;
    if (sws_getColorspaceDetails(context, &inv_table, &src_range, &table, &dst_range, &brightness,
                                 &contrast, &saturation) >= 0 &&
        src_range == 0) {
      sws_setColorspaceDetails(context, inv_table, 1, table, dst_range, brightness, contrast,
                               saturation);
    }
  }
  auto made = NewVideoFrame(size.width, size.height, format);
  if (!made) return made;
  AVFrame& out = **made;
  sws_scale(context, source.data, source.linesize, 0, source.height, out.data, out.linesize);
  return made;
}

Result<FramePtr> VideoConverter::Convert(const AVFrame& frame, int rotation) {
  const int turn = request_.apply_rotation ? rotation : 0;
  const FrameSize size =
      OutputSize(request_, frame.width, frame.height, frame.sample_aspect_ratio, turn);
  const auto source_format = static_cast<AVPixelFormat>(frame.format);
  const AVPixelFormat format = request_.pixel_format >= 0
                                   ? static_cast<AVPixelFormat>(request_.pixel_format)
                                   : source_format;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (desc == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "unknown pixel format " + std::to_string(request_.pixel_format));
  }

  FramePtr out;
  if (turn == 0) {
    if (size == FrameSize{frame.width, frame.height} && format == source_format) {
      return CloneFrame(frame);
    }
    auto scaled = Scale(scaler_, frame, size, format);
    if (!scaled) return scaled;
    out = std::move(*scaled);
  } else {
    const AVPixelFormat turn_format = Rotatable(*desc) ? format : RotatableStandIn(*desc);
    const FrameSize before_turn = SwapsSides(turn) ? FrameSize{size.height, size.width} : size;
    auto scaled = Scale(scaler_, frame, before_turn, turn_format);
    if (!scaled) return scaled;
    auto turned = NewVideoFrame(size.width, size.height, turn_format);
    if (!turned) return turned;
    Turn(**scaled, **turned, turn);
    if (turn_format == format) {
      out = std::move(*turned);
    } else {
      auto converted = Scale(after_turn_, **turned, size, format);
      if (!converted) return converted;
      out = std::move(*converted);
    }
  }
  av_frame_copy_props(out.get(), &frame);
  out->sample_aspect_ratio = AVRational{1, 1};
  // libswscale writes full range only into RGB and the yuvj formats.
  bool full_range = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0 || format == AV_PIX_FMT_YUVJ420P ||
                    format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P;
  out->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  // The picture is upright now; a display matrix carried along would turn it again.
  if (turn != 0) av_frame_remove_side_data(out.get(), AV_FRAME_DATA_DISPLAYMATRIX);
  return out;
}

}  // namespace reprise::media
