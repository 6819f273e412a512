// hls@1: HTTP Live Streaming (RFC 8216) for players: VOD playlists over MPEG-TS
// segments, cut as the one decode pass runs (media/hls_writer.h).
//
// Audio assets (and every asset when `video` is false): AAC-LC stereo at
// `audio_bitrate` kb/s, "playlist.m3u8" + "seg_00000.ts", "seg_00001.ts", ... of
// whole AAC frames up to `segment_seconds` each (1.984 s at 48 kHz for 2 s). The sample
// rate is the source's when AAC takes it, else the nearest AAC rate under it.
//
// Video assets with `video` true: one rendition per rung of `renditions` (the short
// side of the picture in pixels, "720" = 1280x720 or 720x1280 upright), each in its own
// folder ("720p/playlist.m3u8", "720p/seg_00000.ts", ...), plus "master.m3u8" with
// BANDWIDTH (peak segment bit rate), AVERAGE-BANDWIDTH, RESOLUTION, FRAME-RATE and
// CODECS per rendition. Never upscaled: rungs above the source are dropped and the
// source's own size is used instead (a 480p source with rungs 360, 720 gets 360p and
// 480p). Every rendition is H.264 carrying AAC audio; a video without audio gets
// video-only renditions.
//
// Remux: when the source's main video is H.264 (square pixels, upright, 4:2:0) and a
// rung is the source's own short side, that rendition copies the source's video packets
// (no decode, no re-encode; MP4's avcC becomes Annex B in the muxer), cut at the first
// source keyframe on or after each multiple of segment_seconds: with a long source GOP
// its segments are longer and TARGETDURATION says so. Its audio is the source's own when
// that is AAC, else the shared encode; CODECS comes from the source's SPS. Metadata says
// "remux": true. The other rungs are transcoded (libx264 `video_preset`, `video_crf`)
// with an IDR forced on the first frame of each segment and no other keyframes, carrying
// one AAC encode shared by every rendition that does not copy. When no rung is
// transcoded the run declines decoded video after the first frame, and decoded audio as
// well when the source's AAC is copied.
//
// Speed: the AAC encode, most of the work for audio, runs on `threads` threads (0: one
// per core) in chunks of `chunk_seconds` that join sample-exactly
// (media/chunked_audio_encoder.h); the decode loop only copies samples into chunks.
// Memory stays bounded by a few chunks of PCM, the video packets waiting for their audio
// to interleave, and the muxers' buffers: segments are spooled to an anonymous temporary
// file and published in Finish() (the sink is only available there), segments first,
// then media playlists, then the master, so a playlist never names a missing file. A
// rerun writes a complete new set under its own attempt. A run destroyed without
// Finish() stops and joins its threads and records nothing.
//
// Params (defaults): segment_seconds 2.0 (1..30), audio_bitrate 320 (32..512),
// video true, renditions [360, 720] (each 144..2160), video_preset "veryfast",
// video_crf 23 (0..51), chunk_seconds 10.0 (1..600), threads 0 (0..64).
//
// Metadata: {mode: "audio"|"video", playlist (the entry point), segment_seconds,
// duration_seconds (sum of EXTINF), target_duration, segments (count),
// segment_durations, audio: {codec, bit_rate (measured, bits/s), sample_rate, channels,
// threads, chunked}, or {codec, copied: true} when only copied AAC (absent without
// audio); video mode adds renditions: [{name, playlist,
// width, height, remux, bandwidth, average_bandwidth, codecs, segments, target_duration,
// duration_seconds}] and the top-level segment fields describe the first rendition.
//
// Skipped with "no_audio_stream" for an input that gets audio HLS and has no audio.
// Fails with kUnsupportedMedia when nothing decodes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class HlsStage final : public Stage {
 public:
  static constexpr std::string_view kName = "hls";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kPlaylist = "playlist.m3u8";
  static constexpr std::string_view kMaster = "master.m3u8";

  struct Settings {
    double segment_seconds = 2;
    int audio_bitrate = 320;  // kb/s
    bool video = true;
    std::vector<int> renditions{360, 720};
    std::string video_preset = "veryfast";
    int video_crf = 23;
    double chunk_seconds = 10;
    int threads = 0;
  };

  // `overrides`: the `[stages.hls]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<HlsStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

  // The renditions a source of `width` x `height` (upright) gets: {short side, width,
  // height} per rung, smallest first, never larger than the source.
  struct Rung {
    int short_side = 0;
    int width = 0;
    int height = 0;
  };
  [[nodiscard]] static std::vector<Rung> Ladder(const std::vector<int>& rungs, int width,
                                                int height);

 private:
  HlsStage(nlohmann::json params, Settings settings)
      : params_(std::move(params)), settings_(std::move(settings)) {}

  nlohmann::json params_;
  Settings settings_;
};

}  // namespace reprise::stages
