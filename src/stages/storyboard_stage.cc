#include "stages/storyboard_stage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "media/jpeg_encoder.h"
#include "media/segment_spool.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

constexpr std::string_view kSheetType = "image/jpeg";
constexpr std::string_view kVttType = "text/vtt";
// A frame stamped a hair before a tile's time (rounding of its time base) still counts
// as "at" that time.
constexpr double kToleranceMs = 0.5;
// Bounds the work a corrupt duration or a timestamp jump (one frame filling every tile
// up to it) can cause: 1000 hours at the default 10 s.
constexpr int64_t kMaxTiles = 360'000;

// "HH:MM:SS.mmm" (more hour digits past 99), as WebVTT wants.
std::string VttTime(int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld.%03lld",
                static_cast<long long>(ms / 3'600'000), static_cast<long long>(ms / 60'000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return text;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The decoded sheet being filled: one yuvj420p picture of columns x rows tiles.
class Sheet {
 public:
  static Result<Sheet> Allocate(int width, int height) {
    media::FramePtr frame = media::NewFrame();
    frame->width = width;
    frame->height = height;
    frame->format = AV_PIX_FMT_YUVJ420P;
    int rc = av_frame_get_buffer(frame.get(), 0);
    if (rc < 0) {
      return Fail(media::AvError(rc, ErrorCode::kInternal, "cannot allocate a storyboard sheet"));
    }
    Sheet sheet(std::move(frame));
    sheet.Clear();
    return sheet;
  }

  // Black, so the unused corner of a last sheet is black as in ffmpeg's tile filter.
  void Clear() {
    for (int plane = 0; plane < 3; ++plane) {
      int rows = plane == 0 ? frame_->height : (frame_->height + 1) / 2;
      std::memset(frame_->data[plane], plane == 0 ? 0 : 128,
                  static_cast<size_t>(frame_->linesize[plane]) * static_cast<size_t>(rows));
    }
  }

  // Copies `tile` (yuvj420p, even sizes) with its top-left corner at (x, y), both even;
  // a tile larger than `width` x `height` is cropped, a smaller one leaves black.
  void Put(const AVFrame& tile, int x, int y, int width, int height) {
    int copy_w = std::min(width, tile.width);
    int copy_h = std::min(height, tile.height);
    for (int plane = 0; plane < 3; ++plane) {
      int shift = plane == 0 ? 0 : 1;
      int bytes = copy_w >> shift;
      int rows = copy_h >> shift;
      uint8_t* dst = frame_->data[plane] +
                     static_cast<ptrdiff_t>(y >> shift) * frame_->linesize[plane] + (x >> shift);
      const uint8_t* src = tile.data[plane];
      for (int row = 0; row < rows; ++row) {
        std::memcpy(dst + static_cast<ptrdiff_t>(row) * frame_->linesize[plane],
                    src + static_cast<ptrdiff_t>(row) * tile.linesize[plane],
                    static_cast<size_t>(bytes));
      }
    }
  }

  // The sheet cut to its top-left `width` x `height`, as a JPEG.
  Result<std::string> Encode(int width, int height, int quality) const {
    media::FramePtr view = media::CloneFrame(*frame_);
    view->width = width;
    view->height = height;
    return media::EncodeJpeg(*view, quality);
  }

 private:
  explicit Sheet(media::FramePtr frame) : frame_(std::move(frame)) {}
  media::FramePtr frame_;
};

class StoryboardRun final : public StageRun {
 public:
  StoryboardRun(const StoryboardStage::Settings& settings, int64_t interval_ms,
                std::optional<int64_t> duration_ms, std::optional<double> frame_rate,
                std::unique_ptr<media::SegmentSpool> spool)
      : settings_(settings),
        interval_ms_(interval_ms),
        duration_ms_(duration_ms),
        frame_rate_(frame_rate),
        per_sheet_(static_cast<int64_t>(settings.columns) * settings.rows),
        spool_(std::move(spool)) {
    tile_limit_ =
        duration_ms_ ? std::min(CeilDiv(*duration_ms_, interval_ms_), kMaxTiles) : kMaxTiles;
  }

  Feed OnVideoFrame(const media::VideoFrame& frame) override {
    const double pts_ms = frame.pts_seconds * 1000;
    if (frames_ > 0 && pts_ms > last_pts_ms_) last_gap_ms_ = pts_ms - last_pts_ms_;
    last_pts_ms_ = frames_ > 0 ? std::max(last_pts_ms_, pts_ms) : pts_ms;
    ++frames_;
    while (!Complete() && static_cast<double>(placed_ * interval_ms_) <= pts_ms + kToleranceMs) {
      auto placed = Place(*frame.frame);
      if (!placed) {
        error_ = placed.error();
        return Feed::kDone;
      }
    }
    return Complete() ? Feed::kDone : Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (placed_ == 0) {
      return Fail(ErrorCode::kUnsupportedMedia, "no decodable video frame for a storyboard");
    }
    if (placed_ % per_sheet_ != 0) REPRISE_TRY(FlushSheet());
    const int64_t end_ms = EndMillis();
    for (size_t i = 0; i < spool_->segment_count(); ++i) {
      std::string name = StoryboardStage::SheetName(static_cast<int64_t>(i));
      auto out = sink.Create(name);
      if (!out) return Fail(out.error());
      (*out)->SetContentType(kSheetType);
      REPRISE_TRY(spool_->CopySegment(i, **out));
      auto committed = (*out)->Commit(name);
      if (!committed) return Fail(committed.error());
      sink.Add(catalog::OutputBlob{name, committed->key, committed->size, std::string(kSheetType)});
    }
    auto vtt = WriteOutput(sink, StoryboardStage::kVttName, kVttType, Vtt(end_ms));
    if (!vtt) return Fail(vtt.error());
    StageResult result;
    result.metadata = {{"vtt", StoryboardStage::kVttName},
                       {"interval_seconds", static_cast<double>(interval_ms_) / 1000},
                       {"tile_width", settings_.tile_width},
                       {"tile_height", tile_height_},
                       {"columns", settings_.columns},
                       {"rows", settings_.rows},
                       {"sheets", spool_->segment_count()},
                       {"tiles", placed_},
                       {"duration_seconds", static_cast<double>(end_ms) / 1000},
                       {"duration_known", duration_ms_.has_value()}};
    return result;
  }

 private:
  bool Complete() const { return placed_ >= tile_limit_; }

  // Puts `frame` into the next tile, writing the sheet out when that fills it.
  Result<void> Place(const AVFrame& frame) {
    if (frame.format != AV_PIX_FMT_YUVJ420P) {
      return Fail(ErrorCode::kInternal, "storyboard: the decode pass gave a frame not in yuvj420p");
    }
    if (!sheet_) {
      if (tile_height_ == 0) tile_height_ = frame.height;
      auto sheet =
          Sheet::Allocate(settings_.tile_width * settings_.columns, tile_height_ * settings_.rows);
      if (!sheet) return Fail(sheet.error());
      sheet_ = std::move(*sheet);
    }
    auto [x, y] = TileOrigin(placed_);
    sheet_->Put(frame, x, y, settings_.tile_width, tile_height_);
    ++placed_;
    if (placed_ % per_sheet_ == 0) REPRISE_TRY(FlushSheet());
    return {};
  }

  // Encodes the sheet holding the last placed tile, cut to what it uses, into the spool.
  Result<void> FlushSheet() {
    int64_t in_sheet = (placed_ - 1) % per_sheet_ + 1;
    int used_rows = static_cast<int>(CeilDiv(in_sheet, settings_.columns));
    int used_columns = used_rows > 1 ? settings_.columns : static_cast<int>(in_sheet);
    auto jpeg = sheet_->Encode(used_columns * settings_.tile_width, used_rows * tile_height_,
                               settings_.quality);
    if (!jpeg) return Fail(jpeg.error());
    spool_->BeginSegment();
    REPRISE_TRY(spool_->Write(std::span<const std::byte>(
        reinterpret_cast<const std::byte*>(jpeg->data()), jpeg->size())));
    sheet_->Clear();
    return {};
  }

  std::pair<int, int> TileOrigin(int64_t tile) const {
    int64_t in_sheet = tile % per_sheet_;
    return {static_cast<int>(in_sheet % settings_.columns) * settings_.tile_width,
            static_cast<int>(in_sheet / settings_.columns) * tile_height_};
  }

  // The end of the last cue: the duration, or without one the end of the last frame.
  int64_t EndMillis() const {
    const int64_t last_start = (placed_ - 1) * interval_ms_;
    if (duration_ms_) return std::max(*duration_ms_, last_start + 1);
    double step = frame_rate_ && *frame_rate_ > 0 ? 1000 / *frame_rate_ : last_gap_ms_;
    return std::max(static_cast<int64_t>(std::llround(last_pts_ms_ + step)), last_start + 1);
  }

  std::string Vtt(int64_t end_ms) const {
    std::string vtt = "WEBVTT\n";
    for (int64_t tile = 0; tile < placed_; ++tile) {
      const int64_t start = tile * interval_ms_;
      const int64_t end = tile + 1 == placed_ ? end_ms : start + interval_ms_;
      auto [x, y] = TileOrigin(tile);
      vtt += "\n" + VttTime(start) + " --> " + VttTime(end) + "\n" +
             StoryboardStage::SheetName(tile / per_sheet_) + "#xywh=" + std::to_string(x) + "," +
             std::to_string(y) + "," + std::to_string(settings_.tile_width) + "," +
             std::to_string(tile_height_) + "\n";
    }
    return vtt;
  }

  StoryboardStage::Settings settings_;
  int64_t interval_ms_;
  std::optional<int64_t> duration_ms_;
  std::optional<double> frame_rate_;
  int64_t per_sheet_;
  std::unique_ptr<media::SegmentSpool> spool_;
  int64_t tile_limit_;  // tiles the duration calls for, at most kMaxTiles
  std::optional<Sheet> sheet_;
  int tile_height_ = 0;
  int64_t placed_ = 0;
  int64_t frames_ = 0;  // frames seen, for the end of the last cue without a duration
  double last_pts_ms_ = 0;
  double last_gap_ms_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::unique_ptr<StoryboardStage>> StoryboardStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName,
                            {{"tile_width", 160},
                             {"columns", 10},
                             {"rows", 10},
                             {"max_tiles", 100},
                             {"min_interval", 1.0},
                             {"max_interval", 10.0},
                             {"quality", 5}},
                            overrides);
  if (!params) return Fail(params.error());
  Settings settings;
  auto tile_width = IntParam(kName, *params, "tile_width", 16, 1280);
  if (!tile_width) return Fail(tile_width.error());
  if (*tile_width % 2 != 0) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "stage 'storyboard' param 'tile_width' must be even, got " + std::to_string(*tile_width));
  }
  settings.tile_width = *tile_width;
  auto columns = IntParam(kName, *params, "columns", 1, 64);
  if (!columns) return Fail(columns.error());
  settings.columns = *columns;
  auto rows = IntParam(kName, *params, "rows", 1, 64);
  if (!rows) return Fail(rows.error());
  settings.rows = *rows;
  auto max_tiles = IntParam(kName, *params, "max_tiles", 1, 100000);
  if (!max_tiles) return Fail(max_tiles.error());
  settings.max_tiles = *max_tiles;
  auto min_interval = NumberParam(kName, *params, "min_interval", 0.1, 3600);
  if (!min_interval) return Fail(min_interval.error());
  settings.min_interval_ms = std::llround(*min_interval * 1000);
  auto max_interval = NumberParam(kName, *params, "max_interval", *min_interval, 3600);
  if (!max_interval) return Fail(max_interval.error());
  settings.max_interval_ms = std::llround(*max_interval * 1000);
  auto quality = IntParam(kName, *params, "quality", 1, 31);
  if (!quality) return Fail(quality.error());
  settings.quality = *quality;
  return std::unique_ptr<StoryboardStage>(new StoryboardStage(std::move(*params), settings));
}

std::string StoryboardStage::SheetName(int64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "sheet-%03lld.jpg", static_cast<long long>(index));
  return name;
}

int64_t StoryboardStage::IntervalMillis(std::optional<int64_t> duration_ms) const {
  if (!duration_ms || *duration_ms <= 0) return settings_.max_interval_ms;
  return std::clamp(CeilDiv(*duration_ms, settings_.max_tiles), settings_.min_interval_ms,
                    settings_.max_interval_ms);
}

Consumption StoryboardStage::Consumes() const {
  Consumption wants;
  wants.video = VideoRequest{.width = settings_.tile_width,
                             .even_height = true,
                             .apply_rotation = true,
                             .pixel_format = AV_PIX_FMT_YUVJ420P};
  return wants;
}

std::optional<std::string> StoryboardStage::SkipReason(const media::MediaInfo& info) const {
  if (info.Kind() != media::MediaKind::kVideo) return "no_video_stream";
  return std::nullopt;
}

Result<std::unique_ptr<StageRun>> StoryboardStage::Start(const media::MediaInfo& info) const {
  const media::StreamInfo* video = info.BestVideo();
  std::optional<double> seconds = info.duration_seconds;
  if (!seconds && video != nullptr) seconds = video->duration_seconds;
  std::optional<int64_t> duration_ms;
  if (seconds && *seconds > 0) duration_ms = std::llround(*seconds * 1000);
  if (duration_ms && *duration_ms <= 0) duration_ms.reset();
  auto spool = media::SegmentSpool::Create();
  if (!spool) return Fail(spool.error());
  return std::unique_ptr<StageRun>(std::make_unique<StoryboardRun>(
      settings_, IntervalMillis(duration_ms), duration_ms,
      video != nullptr ? video->frame_rate : std::nullopt, std::move(*spool)));
}

}  // namespace reprise::stages
