#include "stages/hls_stage.h"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using testing::RunCommand;

struct Playlist {
  int target_duration = -1;
  std::vector<double> durations;
  std::vector<std::string> uris;
  bool vod = false;
  bool ended = false;

  double Total() const {
    double total = 0;
    for (double d : durations) total += d;
    return total;
  }
};

Playlist ParsePlaylist(const std::string& text) {
  Playlist playlist;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) {
      playlist.target_duration = std::stoi(line.substr(22));
    } else if (line.rfind("#EXTINF:", 0) == 0) {
      playlist.durations.push_back(std::stod(line.substr(8)));
    } else if (line == "#EXT-X-PLAYLIST-TYPE:VOD") {
      playlist.vod = true;
    } else if (line == "#EXT-X-ENDLIST") {
      playlist.ended = true;
    } else if (!line.empty() && line[0] != '#') {
      playlist.uris.push_back(line);
    }
  }
  return playlist;
}

double ProbeDuration(const std::string& path) {
  auto run = RunCommand({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                         "default=nw=1:nk=1", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return run.exit_code == 0 ? std::stod(run.out) : NAN;
}

// Decodes `path` (a playlist) fully; returns the decoded audio duration in seconds.
double DecodedAudioSeconds(const std::string& path) {
  auto run = RunCommand({"ffmpeg", "-hide_banner", "-v", "error", "-i", path, "-map", "0:a:0", "-f",
                         "f32le", "-ac", "1", "-ar", "48000", "-"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return static_cast<double>(run.out.size()) / 4 / 48000;
}

// Keyframe flags of the video frames of one segment file, in order.
std::vector<int> KeyFrames(const std::string& segment) {
  auto run = RunCommand({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "frame=key_frame", "-of", "csv=p=0", segment});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<int> flags;
  std::istringstream lines(run.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) flags.push_back(std::stoi(line));
  }
  return flags;
}

// ffprobe's csv output without blank lines and repeats (MPEG-TS lists its streams under
// the program too).
std::string DistinctLines(const std::string& text) {
  std::set<std::string> seen;
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && seen.insert(line).second) out += line + "\n";
  }
  return out;
}

class HlsStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<HlsStage> Stage(const nlohmann::json& overrides) {
    auto stage = HlsStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs the stage alone on `path` and writes what it committed under a fresh dir.
  StageOutcome Run(const std::string& path, const nlohmann::json& overrides) {
    auto stage = Stage(overrides);
    MemorySink sink;
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage.get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    out_ = std::make_unique<testing::TempDir>();
    for (const auto& [name, data] : sink.files) {
      std::filesystem::path file = std::filesystem::path(out_->path()) / name;
      std::filesystem::create_directories(file.parent_path());
      testing::WriteFile(file.string(), data);
    }
    files_ = sink.files;
    stats_ = report->stats;
    EXPECT_EQ(sink.blobs.size(), sink.files.size());
    return report->outcomes[0];
  }

  std::string Out(const std::string& name) const { return out_->Join(name); }

  static std::string Generate(const std::string& name, const std::vector<std::string>& args) {
    std::string path = samples_->dir().Join(name);
    std::vector<std::string> all = args;
    all.push_back(path);
    EXPECT_TRUE(testing::Ffmpeg(all));
    return path;
  }

  // Checks one media playlist and its segments against a source of `seconds`.
  void ExpectGoodMediaPlaylist(const std::string& name, double seconds, size_t segments) {
    ASSERT_EQ(files_.count(name), 1u) << name;
    Playlist playlist = ParsePlaylist(files_.at(name));
    EXPECT_TRUE(playlist.vod);
    EXPECT_TRUE(playlist.ended);
    EXPECT_EQ(playlist.durations.size(), segments);
    EXPECT_NEAR(playlist.Total(), seconds, 0.05) << files_.at(name);
    double longest = 0;
    for (double d : playlist.durations) {
      EXPECT_LE(d, playlist.target_duration + 0.5);
      longest = std::max(longest, d);
    }
    EXPECT_EQ(playlist.target_duration, static_cast<int>(std::ceil(longest)));
    std::string dir = std::filesystem::path(name).parent_path().string();
    for (const std::string& uri : playlist.uris) {
      EXPECT_EQ(files_.count(dir.empty() ? uri : dir + "/" + uri), 1u) << uri;
    }
    // FFmpeg's HLS demuxer reads it, and its duration is the sum of EXTINF.
    EXPECT_NEAR(ProbeDuration(Out(name)), seconds, 0.05);
  }

  // A 1280x720 25 fps H.264 (High, a keyframe every `gop_seconds` exactly) + AAC MP4.
  static std::string H264Source(const std::string& name, double seconds, int gop_seconds) {
    std::string gop = std::to_string(25 * gop_seconds);
    std::string length = std::to_string(seconds);
    return Generate(name, {"-f",
                           "lavfi",
                           "-i",
                           "testsrc2=s=1280x720:r=25:d=" + length,
                           "-f",
                           "lavfi",
                           "-i",
                           "sine=f=440:sample_rate=48000:d=" + length,
                           "-c:v",
                           "libx264",
                           "-preset",
                           "veryfast",
                           "-g",
                           gop,
                           "-keyint_min",
                           gop,
                           "-sc_threshold",
                           "0",
                           "-pix_fmt",
                           "yuv420p",
                           "-c:a",
                           "aac",
                           "-shortest"});
  }

  std::unique_ptr<testing::TempDir> out_;
  std::map<std::string, std::string> files_;
  RunStats stats_;
};

TEST_F(HlsStageTest, AudioHlsReadsBackWithTheSourceDurationAndBitrate) {
  std::string source = Generate("tone.wav", {"-f", "lavfi", "-i",
                                             "aevalsrc='0.4*sin(2*PI*440*t)+0.1*sin(2*PI*3000*t)|"
                                             "0.4*sin(2*PI*550*t)':s=48000:d=12.5",
                                             "-c:a", "pcm_s16le"});
  StageOutcome outcome = Run(source, nullptr);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  std::cout << meta.dump() << "\n";
  EXPECT_EQ(meta["mode"], "audio");
  EXPECT_EQ(meta["playlist"], "playlist.m3u8");
  EXPECT_EQ(meta["segments"], 7);
  EXPECT_EQ(meta["target_duration"], 2);
  ExpectGoodMediaPlaylist("playlist.m3u8", 12.5, 7);
  EXPECT_EQ(files_.count("seg_00006.ts"), 1u);
  EXPECT_EQ(files_.count("master.m3u8"), 0u);

  // Decoded length: the source plus at most the AAC priming and last-frame padding.
  double decoded = DecodedAudioSeconds(Out("playlist.m3u8"));
  EXPECT_GE(decoded, 12.5 - 0.001);
  EXPECT_LE(decoded, 12.5 + 0.05);

  // ~320 kb/s of AAC, measured by FFmpeg on the stream copied out of the segments.
  EXPECT_NEAR(meta["audio"]["bit_rate"].get<double>(), 320000, 320000 * 0.15);
  auto copied = RunCommand({"ffmpeg", "-hide_banner", "-v", "error", "-i", Out("playlist.m3u8"),
                            "-map", "0:a", "-c", "copy", "-f", "adts", "-"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  double kbps = static_cast<double>(copied.out.size()) * 8 / 12.5 / 1000;
  EXPECT_NEAR(kbps, 320, 320 * 0.15);

  // Every segment stands alone: AAC 48 kHz stereo.
  auto probe =
      RunCommand({"ffprobe", "-v", "error", "-show_entries",
                  "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", Out("seg_00003.ts")});
  EXPECT_EQ(DistinctLines(probe.out), "aac,48000,2\n") << probe.output;
}

// The chunked encode (2 threads, 3 s chunks: joins inside segments) writes the very
// timeline of the continuous one.
TEST_F(HlsStageTest, ChunkedAndContinuousAudioGiveTheSamePlaylist) {
  std::string source = Generate(
      "sweep.flac",
      {"-f", "lavfi", "-i", "aevalsrc='0.5*sin(2*PI*(200+40*t)*t)':s=44100:d=9.3", "-ac", "2"});
  StageOutcome one = Run(source, {{"threads", 1}});
  ASSERT_EQ(one.state, catalog::DerivativeState::kDone);
  std::string continuous = files_.at("playlist.m3u8");
  StageOutcome two = Run(source, {{"threads", 2}, {"chunk_seconds", 3.0}});
  ASSERT_EQ(two.state, catalog::DerivativeState::kDone);
  EXPECT_EQ(files_.at("playlist.m3u8"), continuous);
  EXPECT_EQ(two.result.metadata["audio"]["chunked"], true);
  EXPECT_EQ(one.result.metadata["audio"]["chunked"], false);
  EXPECT_EQ(two.result.metadata["audio"]["sample_rate"], 44100);
  ExpectGoodMediaPlaylist("playlist.m3u8", 9.3, 5);
}

TEST_F(HlsStageTest, AudioHlsOfAVideoWhenVideoIsOff) {
  StageOutcome outcome = Run(samples_->LongMp4(), {{"video", false}});
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : "");
  EXPECT_EQ(outcome.result.metadata["mode"], "audio");
  // 93 AAC frames (1.984 s) a segment: five full ones and 0.08 s.
  ExpectGoodMediaPlaylist("playlist.m3u8", testing::samples::kLongSeconds, 6);
  auto probe = RunCommand({"ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of",
                           "csv=p=0", Out("playlist.m3u8")});
  EXPECT_EQ(DistinctLines(probe.out), "audio\n") << probe.output;
}

TEST_F(HlsStageTest, SkipsAudioHlsWithoutAudio) {
  StageOutcome outcome = Run(samples_->VideoOnlyMp4(), {{"video", false}});
  EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(outcome.skip_reason, "no_audio_stream");
}

// A 480p source with the default ladder (360, 720): 360p and the source's 480p, never
// 720p; each rendition H.264 + AAC, a keyframe starting every segment and no other (the
// source is MPEG-4 Part 2, so every rung is transcoded).
TEST_F(HlsStageTest, VideoLadderNeverUpscalesAndStartsSegmentsOnKeyframes) {
  std::string source =
      Generate("ladder.mp4", {"-f", "lavfi", "-i", "testsrc2=s=854x480:r=25:d=7", "-f", "lavfi",
                              "-i", "sine=f=440:sample_rate=48000:d=7", "-c:v", "mpeg4", "-q:v",
                              "5", "-g", "250", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"});
  StageOutcome outcome = Run(source, nullptr);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  std::cout << meta.dump() << "\n";
  EXPECT_EQ(meta["mode"], "video");
  EXPECT_EQ(meta["playlist"], "master.m3u8");
  ASSERT_EQ(meta["renditions"].size(), 2u);
  EXPECT_EQ(meta["renditions"][0]["name"], "360p");
  EXPECT_EQ(meta["renditions"][0]["height"], 360);
  EXPECT_EQ(meta["renditions"][0]["width"], 640);
  EXPECT_EQ(meta["renditions"][1]["name"], "480p");
  EXPECT_EQ(meta["renditions"][1]["height"], 480);
  EXPECT_EQ(files_.count("720p/playlist.m3u8"), 0u);

  const std::string& master = files_.at("master.m3u8");
  EXPECT_NE(master.find("RESOLUTION=640x360"), std::string::npos) << master;
  EXPECT_NE(master.find("RESOLUTION=854x480"), std::string::npos) << master;
  EXPECT_NE(master.find("CODECS=\"avc1."), std::string::npos) << master;
  EXPECT_NE(master.find("mp4a.40.2\""), std::string::npos) << master;
  EXPECT_TRUE(std::regex_search(master, std::regex("BANDWIDTH=[1-9][0-9]+"))) << master;
  // FFmpeg reads the master: both variants, video and audio.
  auto streams = RunCommand({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name,height",
                             "-of", "csv=p=0", Out("master.m3u8")});
  ASSERT_EQ(streams.exit_code, 0) << streams.output;
  EXPECT_NE(streams.out.find("h264,360"), std::string::npos) << streams.out;
  EXPECT_NE(streams.out.find("h264,480"), std::string::npos) << streams.out;
  EXPECT_NE(streams.out.find("aac"), std::string::npos) << streams.out;

  for (const std::string name : {"360p", "480p"}) {
    ExpectGoodMediaPlaylist(name + "/playlist.m3u8", 7.0, 4);
    Playlist playlist = ParsePlaylist(files_.at(name + "/playlist.m3u8"));
    for (size_t i = 0; i < playlist.uris.size(); ++i) {
      std::vector<int> keys = KeyFrames(Out(name + "/" + playlist.uris[i]));
      ASSERT_FALSE(keys.empty()) << name << " segment " << i;
      EXPECT_EQ(keys.front(), 1) << name << " segment " << i << " starts without a keyframe";
      EXPECT_EQ(std::count(keys.begin(), keys.end(), 1), 1) << name << " segment " << i;
      // 2 s at 25 fps (the last one 1 s).
      EXPECT_EQ(keys.size(), i + 1 < playlist.uris.size() ? 50u : 25u) << name << " " << i;
    }
  }
}

// A video without audio gets video-only renditions.
TEST_F(HlsStageTest, VideoWithoutAudio) {
  StageOutcome outcome = Run(samples_->VideoOnlyMp4(), {{"renditions", {360}}});
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_FALSE(outcome.result.metadata.contains("audio"));
  ASSERT_EQ(outcome.result.metadata["renditions"].size(), 1u);
  ExpectGoodMediaPlaylist("360p/playlist.m3u8", testing::samples::kSmallSeconds, 1);
  auto probe = RunCommand({"ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of",
                           "csv=p=0", Out("360p/seg_00000.ts")});
  EXPECT_EQ(DistinctLines(probe.out), "video\n") << probe.output;
}

// A cancelled job: the run is dropped mid-way without Finish(); its encoder threads stop
// and nothing is written.
TEST_F(HlsStageTest, CancelledRunStopsAndWritesNothing) {
  auto stage = Stage({{"video", false}, {"threads", 2}, {"chunk_seconds", 1.0}});
  MemorySink sink;
  auto reader = testing::OpenOrDie(samples_->LongMp4());
  StageTask task{stage.get(), &sink};
  RunOptions options;
  options.on_progress = [](const media::PassProgress& progress) -> Result<void> {
    if (progress.position_seconds > 6) return Fail(ErrorCode::kCancelled, "cancelled");
    return {};
  };
  auto report = RunStages(*reader, std::span(&task, 1), options);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcomes[0].state, catalog::DerivativeState::kFailed);
  ASSERT_TRUE(report->outcomes[0].error.has_value());
  EXPECT_EQ(report->outcomes[0].error->code, ErrorCode::kCancelled);
  EXPECT_TRUE(sink.files.empty());
  EXPECT_TRUE(sink.blobs.empty());
}

// The elementary stream of `path`'s first video stream, one "size, md5" line per packet:
// access unit delimiters (which the MPEG-TS muxer adds) are dropped and start codes
// normalised, so an MP4 source and its copy in MPEG-TS segments compare equal.
std::vector<std::string> VideoPacketHashes(const std::string& path, const std::string& bsf) {
  auto run = RunCommand({"ffmpeg", "-hide_banner", "-v", "error", "-i", path, "-map", "0:v:0", "-c",
                         "copy", "-bsf:v", bsf, "-f", "framemd5", "-"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> hashes;
  std::istringstream lines(run.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    // stream, dts, pts, duration, size, hash: the timestamps differ by the HLS offset.
    size_t size_at = 0;
    for (int field = 0; field < 4 && size_at != std::string::npos; ++field) {
      size_at = line.find(',', size_at + (field > 0 ? 1 : 0));
    }
    // Then size, hash and side data (which MPEG-TS adds): keep size and hash.
    size_t hash_end = size_at == std::string::npos ? size_at : line.find(',', size_at + 1);
    if (hash_end != std::string::npos) hash_end = line.find(',', hash_end + 1);
    hashes.push_back(
        size_at == std::string::npos ? line : line.substr(size_at + 1, hash_end - size_at - 1));
  }
  return hashes;
}

// A 1280x720 H.264/AAC source with the default ladder: 720p copies the source's packets
// (cut at its 2 s keyframes), 360p is transcoded.
TEST_F(HlsStageTest, RemuxesTheSourceRungOfAnH264Source) {
  std::string source = H264Source("remux.mp4", 7, 2);
  StageOutcome outcome = Run(source, nullptr);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  std::cout << meta.dump() << "\n";
  ASSERT_EQ(meta["renditions"].size(), 2u);
  EXPECT_EQ(meta["renditions"][0]["name"], "360p");
  EXPECT_EQ(meta["renditions"][0]["remux"], false);
  EXPECT_EQ(meta["renditions"][1]["name"], "720p");
  EXPECT_EQ(meta["renditions"][1]["remux"], true);
  EXPECT_EQ(meta["renditions"][1]["width"], 1280);
  EXPECT_EQ(meta["renditions"][1]["height"], 720);

  // The very packets of the source, in order.
  std::vector<std::string> original =
      VideoPacketHashes(source, "h264_mp4toannexb,filter_units=remove_types=9");
  std::vector<std::string> copied =
      VideoPacketHashes(Out("720p/playlist.m3u8"), "filter_units=remove_types=9");
  EXPECT_EQ(original.size(), 175u);
  EXPECT_EQ(copied, original);

  double seconds = ProbeDuration(source);
  ExpectGoodMediaPlaylist("720p/playlist.m3u8", seconds, 4);
  ExpectGoodMediaPlaylist("360p/playlist.m3u8", seconds, 4);
  Playlist playlist = ParsePlaylist(files_.at("720p/playlist.m3u8"));
  for (size_t i = 0; i < playlist.uris.size(); ++i) {
    std::vector<int> keys = KeyFrames(Out("720p/" + playlist.uris[i]));
    ASSERT_FALSE(keys.empty()) << "segment " << i;
    EXPECT_EQ(keys.front(), 1) << "segment " << i << " starts without a keyframe";
  }

  // CODECS of the copy from the source's SPS: High (0x64), level 3.1 (0x1f); the
  // rendition carries the source's AAC.
  const std::string& master = files_.at("master.m3u8");
  EXPECT_NE(master.find("RESOLUTION=1280x720,FRAME-RATE=25.000,CODECS=\"avc1.64001f,mp4a.40.2\""),
            std::string::npos)
      << master;
  auto streams = RunCommand({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name,height",
                             "-of", "csv=p=0", Out("master.m3u8")});
  ASSERT_EQ(streams.exit_code, 0) << streams.output;
  EXPECT_NE(streams.out.find("h264,720"), std::string::npos) << streams.out;
  EXPECT_NE(streams.out.find("h264,360"), std::string::npos) << streams.out;
  auto audio =
      RunCommand({"ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                  "stream=codec_name,sample_rate", "-of", "csv=p=0", Out("720p/seg_00001.ts")});
  EXPECT_EQ(DistinctLines(audio.out), "aac,48000\n") << audio.output;
}

// Only the remuxed rung: nothing is re-encoded, and the pass stops decoding after the
// first video frame and audio frame.
TEST_F(HlsStageTest, RemuxOnlyDecodesNothing) {
  std::string source = H264Source("remux_only.mp4", 5, 2);
  StageOutcome outcome = Run(source, {{"renditions", {720}}});
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  ASSERT_EQ(meta["renditions"].size(), 1u);
  EXPECT_EQ(meta["renditions"][0]["remux"], true);
  EXPECT_EQ(meta["audio"]["copied"], true);
  EXPECT_LE(stats_.video_frames_decoded, 1);
  EXPECT_LE(stats_.audio_frames_decoded, 1);
  ExpectGoodMediaPlaylist("720p/playlist.m3u8", ProbeDuration(source), 3);
}

// A source with a keyframe every 5 s: the copy cannot cut at 2 s, so its segments last
// 5 s and TARGETDURATION says so.
TEST_F(HlsStageTest, RemuxedSegmentsFollowALongSourceGop) {
  std::string source = H264Source("long_gop.mp4", 12, 5);
  StageOutcome outcome = Run(source, {{"renditions", {720}}});
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_EQ(outcome.result.metadata["renditions"][0]["remux"], true);
  EXPECT_EQ(outcome.result.metadata["target_duration"], 5);
  ExpectGoodMediaPlaylist("720p/playlist.m3u8", ProbeDuration(source), 3);
  Playlist playlist = ParsePlaylist(files_.at("720p/playlist.m3u8"));
  EXPECT_EQ(playlist.target_duration, 5);
  ASSERT_EQ(playlist.durations.size(), 3u);
  EXPECT_NEAR(playlist.durations[0], 5, 0.05);
  EXPECT_NEAR(playlist.durations[1], 5, 0.05);
  for (size_t i = 0; i < playlist.uris.size(); ++i) {
    std::vector<int> keys = KeyFrames(Out("720p/" + playlist.uris[i]));
    ASSERT_FALSE(keys.empty());
    EXPECT_EQ(keys.front(), 1) << "segment " << i;
  }
}

// An MPEG-TS source starts at 1.4 s: the copy counts from its start like the decoded
// renditions do, so segments still cut at 2 s and the playlist lasts the source.
TEST_F(HlsStageTest, RemuxOfAnMpegTsSourceCountsFromItsStart) {
  std::string source = H264Source("remux.ts", 5, 2);
  StageOutcome outcome = Run(source, {{"renditions", {360, 720}}});
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_EQ(outcome.result.metadata["renditions"][1]["remux"], true);
  double seconds = ProbeDuration(source);
  ExpectGoodMediaPlaylist("720p/playlist.m3u8", seconds, 3);
  ExpectGoodMediaPlaylist("360p/playlist.m3u8", seconds, 3);
  Playlist playlist = ParsePlaylist(files_.at("720p/playlist.m3u8"));
  ASSERT_EQ(playlist.durations.size(), 3u);
  EXPECT_NEAR(playlist.durations[0], 2, 0.1);
  EXPECT_NEAR(playlist.durations[1], 2, 0.05);
  EXPECT_NE(files_.at("master.m3u8").find("avc1.64001f"), std::string::npos)
      << files_.at("master.m3u8");
}

// VP9 is never copied into MPEG-TS HLS: its only rung is transcoded to H.264.
TEST_F(HlsStageTest, NeverRemuxesVp9) {
  StageOutcome outcome = Run(samples_->Vp9OpusWebm(), nullptr);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& renditions = outcome.result.metadata["renditions"];
  ASSERT_EQ(renditions.size(), 1u);
  EXPECT_EQ(renditions[0]["remux"], false);
  EXPECT_EQ(renditions[0]["height"], testing::samples::kSmallHeight);
  auto probe = RunCommand({"ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                           "stream=codec_name", "-of", "csv=p=0",
                           Out(renditions[0]["name"].get<std::string>() + "/seg_00000.ts")});
  EXPECT_EQ(DistinctLines(probe.out), "h264\n") << probe.output;
}
TEST(HlsLadder, KeepsRungsUnderTheSourceAndTheSourceInsteadOfLargerOnes) {
  auto ladder = HlsStage::Ladder({360, 720}, 1280, 720);
  ASSERT_EQ(ladder.size(), 2u);
  EXPECT_EQ(ladder[0].width, 640);
  EXPECT_EQ(ladder[0].height, 360);
  EXPECT_EQ(ladder[1].width, 1280);
  EXPECT_EQ(ladder[1].height, 720);
  auto small = HlsStage::Ladder({720, 1080}, 640, 360);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].short_side, 360);
  auto portrait = HlsStage::Ladder({360}, 720, 1280);
  ASSERT_EQ(portrait.size(), 1u);
  EXPECT_EQ(portrait[0].width, 360);
  EXPECT_EQ(portrait[0].height, 640);
}

TEST(HlsParams, RefusesBadParams) {
  for (const nlohmann::json& bad :
       {nlohmann::json{{"segment_seconds", 0.1}}, nlohmann::json{{"audio_bitrate", 4}},
        nlohmann::json{{"renditions", nlohmann::json::array()}},
        nlohmann::json{{"renditions", {100}}}, nlohmann::json{{"video_preset", "warp"}},
        nlohmann::json{{"threads", -1}}, nlohmann::json{{"bogus", 1}}}) {
    auto stage = HlsStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
  }
  auto stage = HlsStage::Create(nullptr);
  ASSERT_TRUE(stage.has_value());
  EXPECT_EQ((*stage)->Params()["audio_bitrate"], 320);
  EXPECT_EQ((*stage)->Params()["renditions"], nlohmann::json({360, 720}));
}

}  // namespace
}  // namespace reprise::stages
