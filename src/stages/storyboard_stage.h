// storyboard@1: the scrubbing preview video players show over the seek bar: sprite sheet
// JPEGs of small frames taken at a regular interval, and a WebVTT file whose cues point
// into the sheets with media fragments (`sheet-000.jpg#xywh=160,0,160,90`), the form
// Video.js thumbnail plugins, Vidstack, Plyr and hls.js-based players read.
//
// Files: "sheet-000.jpg", "sheet-001.jpg", ... (image/jpeg) and "storyboard.vtt"
// (text/vtt), published sheets first so the VTT never names a missing file. Tile i shows
// the first frame at or after i * interval (one frame fills every earlier tile still
// empty, so a sparse stream repeats frames rather than leaving holes), upright, scaled to
// `tile_width` with the display aspect kept and an even height. Tiles fill a sheet
// left to right, top to bottom, `columns` x `rows` per sheet; the last sheet is cut to
// the rows it uses (and to the columns, when it has a single row).
//
// Interval, in whole milliseconds, for a duration D (the container's, else the video
// stream's): D / max_tiles rounded up, but at least `min_interval` and at most
// `max_interval`. So a short video gets at most `max_tiles` tiles (never closer than
// min_interval apart), a long one a tile every max_interval. Unknown duration (live-like
// input): max_interval. Cue i covers [i * interval, (i + 1) * interval); the last cue
// ends at D, or, without a duration, one frame after the last frame seen. Cues follow the
// frames actually decoded: when the video ends before D, its last tile's cue stretches
// to D, so cues always cover [0, end] without gaps or overlaps. At most 360000 tiles
// (1000 hours at 10 s), so a corrupt duration or timestamp jump cannot run away.
//
// Params (defaults): tile_width 160 (16..1280, even), columns 10 (1..64), rows 10
// (1..64), max_tiles 100 (1..100000), min_interval 1.0 s (0.1..3600), max_interval 10.0 s
// (min_interval..3600), quality 5 (mjpeg quantiser, 1 best .. 31).
// Metadata: {vtt, interval_seconds, tile_width, tile_height, columns, rows, sheets, tiles,
// duration_seconds (end of the last cue), duration_known}.
//
// Skipped with "no_video_stream" when the input has no moving video: audio (with or
// without cover art; a storyboard of one still picture scrubs nothing) and still images.
// Fails with kUnsupportedMedia when no frame decodes. Memory: one sheet (decoded) at a
// time; finished sheets are encoded at once and spooled to an anonymous temporary file
// (media/segment_spool.h) until Finish() publishes them, since the sink exists only there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class StoryboardStage final : public Stage {
 public:
  static constexpr std::string_view kName = "storyboard";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kVttName = "storyboard.vtt";

  struct Settings {
    int tile_width = 160;
    int columns = 10;
    int rows = 10;
    int max_tiles = 100;
    int64_t min_interval_ms = 1000;
    int64_t max_interval_ms = 10000;
    int quality = 5;
  };

  // `overrides`: the `[stages.storyboard]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<StoryboardStage>> Create(
      const nlohmann::json& overrides);

  // The name of sheet `index`: "sheet-000.jpg" (more digits past 999).
  [[nodiscard]] static std::string SheetName(int64_t index);

  // The interval between tiles for a media duration in milliseconds (nullopt: unknown).
  [[nodiscard]] int64_t IntervalMillis(std::optional<int64_t> duration_ms) const;

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  StoryboardStage(nlohmann::json params, Settings settings)
      : params_(std::move(params)), settings_(settings) {}

  nlohmann::json params_;
  Settings settings_;
};

}  // namespace reprise::stages
