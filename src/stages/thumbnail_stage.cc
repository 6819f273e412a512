#include "stages/thumbnail_stage.h"

#include <string>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "media/jpeg_encoder.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

class ThumbnailRun final : public StageRun {
 public:
  explicit ThumbnailRun(int quality) : quality_(quality) {}

  // The first frame is the thumbnail: encode it at once and ask for nothing more.
  Feed OnVideoFrame(const media::VideoFrame& frame) override {
    jpeg_ = media::EncodeJpeg(*frame.frame, quality_);
    metadata_ = {{"width", frame.frame->width},
                 {"height", frame.frame->height},
                 {"pts", frame.pts_seconds},
                 {"from_cover", frame.from_cover}};
    return Feed::kDone;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (!jpeg_) {
      return Fail(ErrorCode::kUnsupportedMedia, "no decodable video frame for a thumbnail");
    }
    if (!*jpeg_) return Fail(jpeg_->error());
    auto written = WriteOutput(sink, ThumbnailStage::kFileName, "image/jpeg", **jpeg_);
    if (!written) return Fail(written.error());
    StageResult result;
    result.metadata = metadata_;
    return result;
  }

 private:
  int quality_;
  std::optional<Result<std::string>> jpeg_;
  nlohmann::json metadata_;
};

}  // namespace

Result<std::unique_ptr<ThumbnailStage>> ThumbnailStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName, {{"width", 320}, {"quality", 3}}, overrides);
  if (!params) return Fail(params.error());
  auto width = IntParam(kName, *params, "width", 16, 4096);
  if (!width) return Fail(width.error());
  auto quality = IntParam(kName, *params, "quality", 1, 31);
  if (!quality) return Fail(quality.error());
  return std::unique_ptr<ThumbnailStage>(new ThumbnailStage(std::move(*params), *width, *quality));
}

Consumption ThumbnailStage::Consumes() const {
  Consumption wants;
  wants.video = VideoRequest{.width = width_,
                             .even_height = true,
                             .apply_rotation = true,
                             .pixel_format = AV_PIX_FMT_YUVJ420P};
  return wants;
}

std::optional<std::string> ThumbnailStage::SkipReason(const media::MediaInfo& info) const {
  if (info.BestVideo() == nullptr && info.CoverPicture() == nullptr) return "no_video_stream";
  return std::nullopt;
}

Result<std::unique_ptr<StageRun>> ThumbnailStage::Start(const media::MediaInfo& /*info*/) const {
  return std::unique_ptr<StageRun>(std::make_unique<ThumbnailRun>(quality_));
}

}  // namespace reprise::stages
