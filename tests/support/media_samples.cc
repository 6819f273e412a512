#include "tests/support/media_samples.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include <gtest/gtest.h>

namespace reprise::testing {
namespace {

using samples::kFrameRate;

std::string Size(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// `seconds` of `color` then testsrc2 (moving content), as one lavfi graph.
std::string ColorThenPattern(const std::string& color, int width, int height, double first,
                             double total) {
  std::string size = Size(width, height);
  std::string rate = std::to_string(kFrameRate);
  return "color=c=" + color + ":s=" + size + ":r=" + rate + ":d=" + std::to_string(first) +
         "[a];testsrc2=s=" + size + ":r=" + rate + ":d=" + std::to_string(total - first) +
         "[b];[a][b]concat=n=2:v=1:a=0";
}

std::string Sine(int sample_rate, double seconds) {
  return "sine=frequency=440:sample_rate=" + std::to_string(sample_rate) +
         ":duration=" + std::to_string(seconds);
}

std::vector<std::string> H264() {
  return {"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"};
}

std::vector<std::string> Join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

const std::string& MediaSamples::Make(const std::string& name,
                                      const std::function<void(const std::string& path)>& make) {
  auto it = made_.find(name);
  if (it != made_.end()) return it->second;
  std::string path = dir_.Join(name);
  make(path);
  return made_[name] = path;
}

const std::string& MediaSamples::H264AacMp4() {
  return Make("h264_aac.mp4", [](const std::string& path) {
    Ffmpeg(Join({"-f", "lavfi", "-i",
                 ColorThenPattern("red", samples::kSmallWidth, samples::kSmallHeight, 1.0,
                                  samples::kSmallSeconds),
                 "-f", "lavfi", "-i", Sine(48000, samples::kSmallSeconds)},
                Join(H264(), {"-c:a", "aac", "-ac", "2", "-metadata:s:a:0", "language=eng",
                              "-shortest", path})));
  });
}

const std::string& MediaSamples::Vp9OpusWebm() {
  return Make("vp9_opus.webm", [](const std::string& path) {
    Ffmpeg({"-f",
            "lavfi",
            "-i",
            ColorThenPattern("blue", samples::kSmallWidth, samples::kSmallHeight, 1.0,
                             samples::kSmallSeconds),
            "-f",
            "lavfi",
            "-i",
            Sine(48000, samples::kSmallSeconds),
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "libopus",
            "-ac",
            "2",
            "-shortest",
            path});
  });
}

const std::string& MediaSamples::Mp3WithCover() {
  return Make("with_cover.mp3", [this](const std::string& path) {
    std::string cover = dir_.Join("cover_source.png");
    Ffmpeg({"-f", "lavfi", "-i",
            "color=c=green:s=" + Size(samples::kCoverWidth, samples::kCoverHeight), "-frames:v",
            "1", cover});
    Ffmpeg({"-f",
            "lavfi",
            "-i",
            Sine(44100, samples::kSmallSeconds),
            "-i",
            cover,
            "-map",
            "0",
            "-map",
            "1",
            "-c:a",
            "libmp3lame",
            "-ac",
            "2",
            "-b:a",
            "128k",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
            "-id3v2_version",
            "3",
            path});
  });
}

const std::string& MediaSamples::Mp3() {
  return Make("no_cover.mp3", [](const std::string& path) {
    Ffmpeg({"-f", "lavfi", "-i", Sine(44100, samples::kSmallSeconds), "-c:a", "libmp3lame", "-ac",
            "2", "-b:a", "128k", path});
  });
}

const std::string& MediaSamples::Wav() {
  return Make("tone.wav", [](const std::string& path) {
    Ffmpeg({"-f", "lavfi", "-i", Sine(44100, samples::kWavSeconds), "-c:a", "pcm_s16le", "-ac", "1",
            path});
  });
}

const std::string& MediaSamples::RotatedPhoneMp4() {
  return Make("phone_rotated.mp4", [this](const std::string& path) {
    std::string upright = dir_.Join("phone_coded.mp4");
    std::string half = Size(samples::kPhoneCodedWidth / 2, samples::kPhoneCodedHeight);
    Ffmpeg(Join({"-f", "lavfi", "-i",
                 "color=c=red:s=" + half + ":r=25:d=1[l];color=c=blue:s=" + half +
                     ":r=25:d=1[r];[l][r]hstack",
                 "-f", "lavfi", "-i", Sine(48000, 1.0)},
                Join(H264(), {"-c:a", "aac", "-shortest", upright})));
    // Debian's ffmpeg 5.1 CLI only writes a display matrix when stream-copying, and turns
    // the legacy `rotate` tag into a matrix rotated counter-clockwise by the tag's value:
    // 270 here is the 90-degrees-clockwise matrix phones write (ffprobe: rotation -90).
    Ffmpeg({"-i", upright, "-c", "copy", "-metadata:s:v:0", "rotate=270", path});
    auto check = RunCommand({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream_side_data=rotation", "-of", "csv=p=0", path});
    if (check.output.find("-90") == std::string::npos) {
      ADD_FAILURE() << "rotated sample has no clockwise display matrix: " << check.output;
    }
  });
}

const std::string& MediaSamples::OddSizeMp4() {
  return Make("odd_1081x607.mp4", [](const std::string& path) {
    // format=rgb24 keeps lavfi from rounding the size down to even numbers.
    Ffmpeg({"-f", "lavfi", "-i",
            "color=c=red:s=" + Size(samples::kOddWidth, samples::kOddHeight) +
                ":r=25:d=1,format=rgb24",
            "-c:v", "mpeg4", "-q:v", "3", "-pix_fmt", "yuv420p", path});
  });
}

const std::string& MediaSamples::AudioOnlyM4a() {
  return Make("audio_only.m4a", [](const std::string& path) {
    Ffmpeg({"-f", "lavfi", "-i", Sine(48000, samples::kSmallSeconds), "-c:a", "aac", "-ac", "2",
            path});
  });
}

const std::string& MediaSamples::VideoOnlyMp4() {
  return Make("video_only.mp4", [](const std::string& path) {
    Ffmpeg(Join({"-f", "lavfi", "-i",
                 ColorThenPattern("yellow", samples::kVideoOnlyWidth, samples::kVideoOnlyHeight,
                                  1.0, samples::kSmallSeconds)},
                Join(H264(), {path})));
  });
}

const std::string& MediaSamples::PngImage() {
  return Make("picture.png", [](const std::string& path) {
    Ffmpeg({"-f", "lavfi", "-i",
            "color=c=magenta:s=" + Size(samples::kPngWidth, samples::kPngHeight), "-frames:v", "1",
            path});
  });
}

const std::string& MediaSamples::LongMp4() {
  return Make("long_10s.mp4", [](const std::string& path) {
    Ffmpeg(Join({"-f", "lavfi", "-i",
                 "testsrc2=s=" + Size(samples::kSmallWidth, samples::kSmallHeight) +
                     ":r=25:d=" + std::to_string(samples::kLongSeconds),
                 "-f", "lavfi", "-i", Sine(48000, samples::kLongSeconds)},
                Join(H264(), {"-c:a", "aac", "-ac", "2", "-shortest", path})));
  });
}

const std::string& MediaSamples::ZeroBytes() {
  return Make("empty.mp4", [](const std::string& path) { WriteFile(path, ""); });
}

const std::string& MediaSamples::RandomBytesMp4() {
  return Make("random.mp4", [](const std::string& path) {
    std::mt19937 random(42);
    std::string bytes(64 * 1024, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(random() & 0xff);
    WriteFile(path, bytes);
  });
}

const std::string& MediaSamples::TruncatedMp4() {
  const std::string& whole = H264AacMp4();
  return Make("truncated.mp4", [&whole](const std::string& path) {
    std::string bytes = ReadFile(whole);
    WriteFile(path, bytes.substr(0, bytes.size() / 2));
  });
}

namespace {

// Overwrites the part [from, to) (fractions) of the payload of every mdat box in the MP4
// `bytes` with seeded random bytes; the boxes around (the index) stay intact.
void ScrambleMediaData(std::string& bytes, double from, double to) {
  std::mt19937 random(11);
  for (size_t at = 0; at + 8 <= bytes.size();) {
    uint64_t size = 0;
    for (size_t i = 0; i < 4; ++i) size = size << 8 | static_cast<uint8_t>(bytes[at + i]);
    if (size < 8 || at + size > bytes.size()) break;
    if (bytes.compare(at + 4, 4, "mdat") == 0) {
      const auto payload = static_cast<double>(size - 8);
      const size_t begin = at + 8 + static_cast<size_t>(payload * from);
      const size_t end = at + 8 + static_cast<size_t>(payload * to);
      for (size_t i = begin; i < end; ++i) bytes[i] = static_cast<char>(random() & 0xff);
    }
    at += size;
  }
}

}  // namespace

const std::string& MediaSamples::ScrambledMp4() {
  const std::string& whole = LongMp4();
  return Make("scrambled.mp4", [&whole](const std::string& path) {
    std::string bytes = ReadFile(whole);
    ASSERT_NE(bytes.find("mdat"), std::string::npos) << whole << " has no mdat box";
    ScrambleMediaData(bytes, 1.0 / 3, 2.0 / 3);
    WriteFile(path, bytes);
  });
}

const std::string& MediaSamples::UndecodableMp4() {
  const std::string& whole = H264AacMp4();
  return Make("undecodable.mp4", [&whole](const std::string& path) {
    std::string bytes = ReadFile(whole);
    ASSERT_NE(bytes.find("mdat"), std::string::npos) << whole << " has no mdat box";
    ScrambleMediaData(bytes, 0, 1);
    WriteFile(path, bytes);
  });
}

}  // namespace reprise::testing
