#include "stages/scenes_stage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "media/jpeg_encoder.h"
#include "media/segment_spool.h"
#include "media/video_converter.h"
#include "stages/params.h"
#include "stages/scene_motion.h"

namespace reprise::stages {
namespace {

// Variance of the 4-neighbour Laplacian of the luma plane: high for a sharp picture,
// low for a blurred or flat one.
double Sharpness(const AVFrame& frame) {
  if (frame.width < 3 || frame.height < 3) return 0;
  double sum = 0;
  double squares = 0;
  int64_t count = 0;
  for (int y = 1; y + 1 < frame.height; ++y) {
    const uint8_t* up = frame.data[0] + static_cast<ptrdiff_t>(y - 1) * frame.linesize[0];
    const uint8_t* row = up + frame.linesize[0];
    const uint8_t* down = row + frame.linesize[0];
    for (int x = 1; x + 1 < frame.width; ++x) {
      int laplacian = 4 * row[x] - row[x - 1] - row[x + 1] - up[x] - down[x];
      sum += laplacian;
      squares += static_cast<double>(laplacian) * laplacian;
      ++count;
    }
  }
  double mean = sum / static_cast<double>(count);
  return squares / static_cast<double>(count) - mean * mean;
}

struct Candidate {
  media::FramePtr frame;
  double pts = 0;
  double sharpness = 0;
};

// Keyframe candidates of the scene in progress: every stride-th frame, scaled to the
// keyframe size as it is taken, at most ScenesStage::kCandidates of them; when full,
// every other one goes and the stride doubles, so they stay spread evenly over the scene
// however long it runs. Only the frames taken are scaled (the decode pass hands over
// frames at their own size), which is most of what the stage saves over scaling all.
class KeyframePicker {
 public:
  explicit KeyframePicker(int keyframe_width)
      : converter_(media::VideoRequest{.width = keyframe_width,
                                       .even_height = true,
                                       .apply_rotation = false,  // the pass turned it
                                       .pixel_format = AV_PIX_FMT_YUVJ420P}) {}

  Result<void> Add(const AVFrame& frame, double pts) {
    latest_ = media::CloneFrame(frame);
    latest_pts_ = pts;
    if (seen_++ % stride_ != 0) return {};
    auto candidate = Scaled(frame, pts);
    if (!candidate) return Fail(candidate.error());
    candidates_.push_back(std::move(*candidate));
    if (candidates_.size() <= static_cast<size_t>(ScenesStage::kCandidates)) return {};
    std::deque<Candidate> kept;
    for (size_t i = 0; i < candidates_.size(); i += 2) kept.push_back(std::move(candidates_[i]));
    candidates_ = std::move(kept);
    stride_ *= 2;
    return {};
  }

  // The keyframe of the scene [start, end): the sharpest candidate in its middle half,
  // else the one nearest its middle. Candidates from `end` on stay for the next scene
  // (boundaries are known a few frames late), which samples every frame again; the newest
  // frame is taken for it when none was sampled. A scene can be left with no candidate
  // only when two boundaries become known at once with no sample between them: it then
  // gets the first frame after it (keyframe_time tells).
  Result<Candidate> Take(double start, double end) {
    std::vector<Candidate> scene;
    while (!candidates_.empty() && candidates_.front().pts < end) {
      scene.push_back(std::move(candidates_.front()));
      candidates_.pop_front();
    }
    stride_ = 1;
    seen_ = 1;
    if (candidates_.empty() && latest_ && latest_pts_ >= end) {
      auto newest = Scaled(*latest_, latest_pts_);
      if (!newest) return Fail(newest.error());
      candidates_.push_back(std::move(*newest));
    }
    if (scene.empty() && !candidates_.empty()) {
      scene.push_back(Candidate{media::CloneFrame(*candidates_.front().frame),
                                candidates_.front().pts, candidates_.front().sharpness});
    }
    if (scene.empty()) {
      if (!latest_) return Fail(ErrorCode::kInternal, "a scene ended before any frame");
      auto newest = Scaled(*latest_, latest_pts_);
      if (!newest) return Fail(newest.error());
      scene.push_back(std::move(*newest));
    }
    double middle = (start + end) / 2;
    auto off_middle = [&](const Candidate& candidate) { return std::abs(candidate.pts - middle); };
    Candidate* best = &scene.front();
    for (Candidate& candidate : scene) {
      if (off_middle(candidate) < off_middle(*best)) best = &candidate;
    }
    for (Candidate& candidate : scene) {
      if (off_middle(candidate) <= (end - start) / 4 && candidate.sharpness > best->sharpness) {
        best = &candidate;
      }
    }
    return std::move(*best);
  }

 private:
  Result<Candidate> Scaled(const AVFrame& frame, double pts) {
    auto scaled = converter_.Convert(frame, 0);
    if (!scaled) return Fail(scaled.error());
    double sharpness = Sharpness(**scaled);
    return Candidate{std::move(*scaled), pts, sharpness};
  }

  media::VideoConverter converter_;
  std::deque<Candidate> candidates_;
  media::FramePtr latest_;  // the newest frame, for a scene no sample fell in
  double latest_pts_ = 0;
  int64_t stride_ = 1;
  int64_t seen_ = 0;
};

struct SceneRecord {
  double start = 0;
  double end = 0;
  std::string transition;  // how it began: "start", "cut", "fade"
  double difference = 0;
  double motion = 0;
  double keyframe_time = 0;
  double sharpness = 0;
};

class ScenesRun final : public StageRun {
 public:
  ScenesRun(const ScenesSettings& settings, std::unique_ptr<media::SegmentSpool> spool,
            double frame_seconds)
      : settings_(settings),
        detector_(settings.detector),
        spool_(std::move(spool)),
        picker_(settings.keyframe_width),
        frame_seconds_(frame_seconds) {}

  Feed OnVideoFrame(const media::VideoFrame& frame) override {
    if (error_) return Feed::kDone;
    double pts = frames_ == 0 ? frame.pts_seconds : std::max(frame.pts_seconds, last_pts_);
    if (frames_ > 0 && pts > last_pts_) frame_seconds_ = pts - last_pts_;
    if (frames_ == 0) {
      next_.start = pts;
      next_.transition = "start";
    }
    ++frames_;
    last_pts_ = pts;
    auto small = Shrink(*frame.frame, settings_.analysis_width, pts);
    if (!small) {
      error_ = small.error();
      return Feed::kDone;
    }
    std::vector<ShotBoundary> boundaries = detector_.Push(std::move(*small));
    motion_.Add(frames_ - 1, detector_.last_difference());
    for (const ShotBoundary& boundary : boundaries) {
      if (!EndScene(boundary.time, boundary)) return Feed::kDone;
    }
    if (auto added = picker_.Add(*frame.frame, pts); !added) {
      error_ = added.error();
      return Feed::kDone;
    }
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (frames_ == 0) {
      return Fail(ErrorCode::kUnsupportedMedia, "no decodable video frame to find scenes in");
    }
    for (const ShotBoundary& boundary : detector_.Flush()) {
      if (!EndScene(boundary.time, boundary)) return Fail(*error_);
    }
    double duration = last_pts_ + frame_seconds_;
    if (!EndScene(duration, std::nullopt)) return Fail(*error_);
    REPRISE_TRY(Publish(sink, duration));
    int cuts = 0;
    int fades = 0;
    for (const SceneRecord& scene : scenes_) {
      cuts += scene.transition == "cut" ? 1 : 0;
      fades += scene.transition == "fade" ? 1 : 0;
    }
    StageResult result;
    result.metadata = {{"scenes", scenes_.size()},
                       {"cuts", cuts},
                       {"fades", fades},
                       {"duration", duration},
                       {"frames", frames_},
                       {"keyframe_width", settings_.keyframe_width},
                       {"keyframe_height", keyframe_height_}};
    return result;
  }

 private:
  // Ends the scene in progress at `end` (encoding and spooling its keyframe); `next`
  // is the boundary that starts the following one, nullopt at the end of the input.
  bool EndScene(double end, const std::optional<ShotBoundary>& next) {
    SceneRecord scene = next_;
    scene.end = end;
    scene.motion = motion_.Take(next ? next->frame : frames_);
    auto taken = picker_.Take(scene.start, end);
    if (!taken) {
      error_ = taken.error();
      return false;
    }
    Candidate keyframe = std::move(*taken);
    keyframe_height_ = keyframe.frame->height;
    scene.keyframe_time = keyframe.pts;
    scene.sharpness = keyframe.sharpness;
    auto jpeg = media::EncodeJpeg(*keyframe.frame, settings_.quality);
    if (!jpeg) {
      error_ = jpeg.error();
      return false;
    }
    spool_->BeginSegment();
    auto written = spool_->Write(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(jpeg->data()), jpeg->size()));
    if (!written) {
      error_ = written.error();
      return false;
    }
    scenes_.push_back(std::move(scene));
    if (next) {
      next_ = SceneRecord{};
      next_.start = next->time;
      next_.transition = next->transition == Transition::kFade ? "fade" : "cut";
      next_.difference = next->difference;
    }
    return true;
  }

  Result<void> Publish(OutputSink& sink, double duration) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < scenes_.size(); ++i) {
      std::string name = ScenesStage::KeyframeName(static_cast<int>(i));
      auto out = sink.Create(name);
      if (!out) return Fail(out.error());
      (*out)->SetContentType("image/jpeg");
      REPRISE_TRY(spool_->CopySegment(i, **out));
      auto committed = (*out)->Commit(name);
      if (!committed) return Fail(committed.error());
      sink.Add(catalog::OutputBlob{name, committed->key, committed->size, "image/jpeg"});
      const SceneRecord& scene = scenes_[i];
      list.push_back({{"index", i},
                      {"start", scene.start},
                      {"end", scene.end},
                      {"transition", scene.transition},
                      {"difference", scene.difference},
                      {"motion", scene.motion},
                      {"keyframe", name},
                      {"keyframe_time", scene.keyframe_time},
                      {"sharpness", scene.sharpness}});
    }
    nlohmann::json index = {{"duration", duration}, {"scenes", std::move(list)}};
    auto written = WriteOutput(sink, ScenesStage::kIndexFile, "application/json", index.dump(2));
    if (!written) return Fail(written.error());
    return {};
  }

  ScenesSettings settings_;
  ShotDetector detector_;
  std::unique_ptr<media::SegmentSpool> spool_;  // scene i's JPEG is segment i
  KeyframePicker picker_;
  SceneMotion motion_;
  SceneRecord next_;  // the scene in progress
  std::vector<SceneRecord> scenes_;
  double frame_seconds_;  // the last frame's duration (the gap before it)
  double last_pts_ = 0;
  int64_t frames_ = 0;
  int keyframe_height_ = 0;
  std::optional<Error> error_;
};

Result<double> FloatParam(const nlohmann::json& params, std::string_view name, double min,
                          double max) {
  double value = params.at(std::string(name)).get<double>();
  if (!(value >= min && value <= max)) {
    return Fail(ErrorCode::kInvalidArgument, "stage 'scenes' param '" + std::string(name) +
                                                 "' must be in " + nlohmann::json(min).dump() +
                                                 ".." + nlohmann::json(max).dump() + ", got " +
                                                 nlohmann::json(value).dump());
  }
  return value;
}

}  // namespace

std::string ScenesStage::KeyframeName(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "scene-%04d.jpg", index);
  return name;
}

Result<std::unique_ptr<ScenesStage>> ScenesStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName,
                            {{"threshold", 3.0},
                             {"min_difference", 0.08},
                             {"min_scene_seconds", 0.5},
                             {"keyframe_width", 640},
                             {"analysis_width", 96},
                             {"quality", 3}},
                            overrides);
  if (!params) return Fail(params.error());
  ScenesSettings settings;
  auto threshold = FloatParam(*params, "threshold", 1.2, 50);
  if (!threshold) return Fail(threshold.error());
  auto min_difference = FloatParam(*params, "min_difference", 0.005, 1);
  if (!min_difference) return Fail(min_difference.error());
  auto min_scene = FloatParam(*params, "min_scene_seconds", 0, 600);
  if (!min_scene) return Fail(min_scene.error());
  auto keyframe_width = IntParam(kName, *params, "keyframe_width", 64, 1920);
  if (!keyframe_width) return Fail(keyframe_width.error());
  auto analysis_width = IntParam(kName, *params, "analysis_width", 16, 320);
  if (!analysis_width) return Fail(analysis_width.error());
  auto quality = IntParam(kName, *params, "quality", 1, 31);
  if (!quality) return Fail(quality.error());
  settings.detector.threshold = *threshold;
  settings.detector.min_difference = *min_difference;
  // A fade must change the picture a little more than a cut: the two sides are seen
  // further apart in time, so motion alone differs more.
  settings.detector.fade_difference = std::min(1.0, *min_difference * 1.5);
  settings.detector.min_scene_seconds = *min_scene;
  settings.keyframe_width = *keyframe_width;
  settings.analysis_width = *analysis_width;
  settings.quality = *quality;
  return std::unique_ptr<ScenesStage>(new ScenesStage(std::move(*params), settings));
}

Consumption ScenesStage::Consumes() const {
  Consumption wants;
  // Frames at their own size and in the format most video decodes to, so for most
  // inputs the pass hands them over unconverted; the picker scales the few it keeps.
  wants.video = VideoRequest{
      .width = 0, .even_height = false, .apply_rotation = true, .pixel_format = AV_PIX_FMT_YUV420P};
  return wants;
}

std::optional<std::string> ScenesStage::SkipReason(const media::MediaInfo& info) const {
  if (info.Kind() != media::MediaKind::kVideo) return "no_video_stream";
  return std::nullopt;
}

Result<std::unique_ptr<StageRun>> ScenesStage::Start(const media::MediaInfo& info) const {
  auto spool = media::SegmentSpool::Create();
  if (!spool) return Fail(spool.error());
  double frame_seconds = 0;
  const media::StreamInfo* video = info.BestVideo();
  if (video != nullptr && video->frame_rate && *video->frame_rate > 0) {
    frame_seconds = 1.0 / *video->frame_rate;
  }
  return std::unique_ptr<StageRun>(
      std::make_unique<ScenesRun>(settings_, std::move(*spool), frame_seconds));
}

}  // namespace reprise::stages
