#include "stages/cover_stage.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "media/jpeg_encoder.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

constexpr double kCandidateSeconds = 0.5;  // one candidate per this much video
constexpr double kBlackMean = 16;          // mean luma under this: a black frame
constexpr double kBlankMean = 240;         // over this: a white (blank) frame
constexpr double kFlatDeviation = 8;       // standard deviation under this: flat
constexpr double kBlurryFraction = 0.5;    // sharpness under this share of the best

struct Luma {
  double mean = 0;
  double deviation = 0;  // standard deviation
  double sharpness = 0;  // root of the variance of the 4-neighbour Laplacian
  double score() const { return deviation * sharpness; }
  bool rejected() const {
    return mean < kBlackMean || mean > kBlankMean || deviation < kFlatDeviation;
  }
};

// Luma statistics of a full-range YUV picture (its first plane).
Luma Measure(const AVFrame& picture) {
  const int width = picture.width;
  const int height = picture.height;
  auto at = [&](int x, int y) {
    return static_cast<int>(picture.data[0][static_cast<ptrdiff_t>(y) * picture.linesize[0] + x]);
  };
  double sum = 0;
  double squares = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double value = at(x, y);
      sum += value;
      squares += value * value;
    }
  }
  Luma luma;
  const double pixels = static_cast<double>(width) * height;
  luma.mean = sum / pixels;
  luma.deviation = std::sqrt(std::max(0.0, squares / pixels - luma.mean * luma.mean));
  double laplacian_sum = 0;
  double laplacian_squares = 0;
  int64_t count = 0;
  for (int y = 1; y + 1 < height; ++y) {
    for (int x = 1; x + 1 < width; ++x) {
      double laplacian = 4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1);
      laplacian_sum += laplacian;
      laplacian_squares += laplacian * laplacian;
      ++count;
    }
  }
  if (count > 0) {
    double mean = laplacian_sum / static_cast<double>(count);
    luma.sharpness =
        std::sqrt(std::max(0.0, laplacian_squares / static_cast<double>(count) - mean * mean));
  }
  return luma;
}

struct Candidate {
  media::FramePtr picture;
  double pts = 0;
  bool from_cover = false;
  Luma luma;
};

class CoverRun final : public StageRun {
 public:
  CoverRun(int quality, double scan_seconds, int max_candidates)
      : quality_(quality), scan_seconds_(scan_seconds), max_candidates_(max_candidates) {}

  Feed OnVideoFrame(const media::VideoFrame& frame) override {
    if (!first_.picture) {
      start_pts_ = frame.pts_seconds;
    } else if (frame.pts_seconds - start_pts_ > scan_seconds_) {
      return Feed::kDone;
    }
    if (first_.picture && frame.pts_seconds < next_candidate_) return Feed::kMore;
    next_candidate_ = frame.pts_seconds + kCandidateSeconds;
    Candidate candidate{media::CloneFrame(*frame.frame), frame.pts_seconds, frame.from_cover,
                        Measure(*frame.frame)};
    if (!first_.picture) {
      first_ = {media::CloneFrame(*frame.frame), candidate.pts, candidate.from_cover,
                candidate.luma};
    }
    if (!candidate.luma.rejected()) Keep(std::move(candidate));
    // Cover art comes once and alone: nothing more to wait for.
    if (frame.from_cover) return Feed::kDone;
    return ++candidates_ >= max_candidates_ ? Feed::kDone : Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (!first_.picture) {
      return Fail(ErrorCode::kUnsupportedMedia, "no decodable video frame for a cover");
    }
    double sharpest = 0;
    for (const Candidate& kept : kept_) sharpest = std::max(sharpest, kept.luma.sharpness);
    const Candidate* best = nullptr;
    for (const Candidate& kept : kept_) {
      if (kept.luma.sharpness < kBlurryFraction * sharpest) continue;
      if (best == nullptr || kept.luma.score() > best->luma.score()) best = &kept;
    }
    const bool fallback = best == nullptr;
    if (fallback) best = &first_;
    auto jpeg = media::EncodeJpeg(*best->picture, quality_);
    if (!jpeg) return Fail(jpeg.error());
    REPRISE_TRY(WriteOutput(sink, CoverStage::kFileName, "image/jpeg", *jpeg));
    StageResult result;
    result.metadata = {{"width", best->picture->width},
                       {"height", best->picture->height},
                       {"pts", best->pts},
                       {"from_cover", best->from_cover},
                       {"score", best->luma.score()},
                       {"fallback", fallback}};
    return result;
  }

 private:
  // Keeps `candidate` unless another beats it on both score and sharpness, and drops the
  // ones it beats so: whatever the blur cut-off turns out to be, the winner is kept.
  void Keep(Candidate candidate) {
    auto beats = [](const Candidate& a, const Candidate& b) {
      return a.luma.score() >= b.luma.score() && a.luma.sharpness >= b.luma.sharpness;
    };
    for (const Candidate& kept : kept_) {
      if (beats(kept, candidate)) return;
    }
    std::erase_if(kept_, [&](const Candidate& kept) { return beats(candidate, kept); });
    kept_.push_back(std::move(candidate));
  }

  int quality_;
  double scan_seconds_;
  int max_candidates_;
  double start_pts_ = 0;
  double next_candidate_ = -std::numeric_limits<double>::infinity();
  int candidates_ = 0;
  Candidate first_;
  std::vector<Candidate> kept_;
};

}  // namespace

Result<std::unique_ptr<CoverStage>> CoverStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(
      kName, {{"width", 640}, {"quality", 3}, {"scan_seconds", 10}, {"max_candidates", 20}},
      overrides);
  if (!params) return Fail(params.error());
  auto width = IntParam(kName, *params, "width", 16, 4096);
  if (!width) return Fail(width.error());
  auto quality = IntParam(kName, *params, "quality", 1, 31);
  if (!quality) return Fail(quality.error());
  auto scan_seconds = IntParam(kName, *params, "scan_seconds", 1, 600);
  if (!scan_seconds) return Fail(scan_seconds.error());
  auto max_candidates = IntParam(kName, *params, "max_candidates", 1, 200);
  if (!max_candidates) return Fail(max_candidates.error());
  return std::unique_ptr<CoverStage>(new CoverStage(
      std::move(*params), Options{*width, *quality, *scan_seconds, *max_candidates}));
}

Consumption CoverStage::Consumes() const {
  // The thumbnail's request: full-range YUV for the JPEG, its luma plane for scoring.
  Consumption wants;
  wants.video = VideoRequest{.width = options_.width,
                             .even_height = true,
                             .apply_rotation = true,
                             .pixel_format = AV_PIX_FMT_YUVJ420P};
  return wants;
}

std::optional<std::string> CoverStage::SkipReason(const media::MediaInfo& info) const {
  if (info.BestVideo() == nullptr && info.CoverPicture() == nullptr) return "no_video_stream";
  return std::nullopt;
}

Result<std::unique_ptr<StageRun>> CoverStage::Start(const media::MediaInfo& /*info*/) const {
  return std::unique_ptr<StageRun>(std::make_unique<CoverRun>(
      options_.quality, static_cast<double>(options_.scan_seconds), options_.max_candidates));
}

}  // namespace reprise::stages
