// Sample media for tests, generated with the ffmpeg CLI from lavfi sources (fixed
// seeds, fixed encoders, short and small), never downloaded.
//
// A MediaSamples object makes each file the first time it is asked for, in its own
// temporary directory, and keeps it until destroyed, so a test suite can share one set
// (SetUpTestSuite) and pay for each file once. Generation failures are reported as test
// failures (ADD_FAILURE) and the path is returned anyway.
//
// What each sample holds is stated beside it and in the constants below, so tests
// compare probe results and decoded pictures against what was generated.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "tests/support/test_support.h"

namespace reprise::testing {

struct Rgb {
  int r = 0;
  int g = 0;
  int b = 0;
};

namespace samples {

// The colours lavfi's `color` source gives these names.
inline constexpr Rgb kRed{255, 0, 0};
inline constexpr Rgb kBlue{0, 0, 255};
inline constexpr Rgb kGreen{0, 128, 0};
inline constexpr Rgb kYellow{255, 255, 0};
inline constexpr Rgb kMagenta{255, 0, 255};

inline constexpr int kSmallWidth = 320;  // H264AacMp4, Vp9OpusWebm, LongMp4
inline constexpr int kSmallHeight = 240;
inline constexpr double kSmallSeconds = 2.0;
inline constexpr int kFrameRate = 25;
inline constexpr int kPhoneCodedWidth = 1280;  // RotatedPhoneMp4, before rotation
inline constexpr int kPhoneCodedHeight = 720;
inline constexpr int kOddWidth = 1081;  // OddSizeMp4
inline constexpr int kOddHeight = 607;
inline constexpr int kCoverWidth = 400;  // Mp3WithCover's picture
inline constexpr int kCoverHeight = 300;
inline constexpr int kVideoOnlyWidth = 640;  // VideoOnlyMp4
inline constexpr int kVideoOnlyHeight = 360;
inline constexpr int kPngWidth = 640;  // PngImage
inline constexpr int kPngHeight = 480;
inline constexpr double kLongSeconds = 10.0;  // LongMp4
inline constexpr double kWavSeconds = 1.5;

}  // namespace samples

class MediaSamples {
 public:
  // 2 s, H.264 320x240 @25 whose first second is solid red (then testsrc2), AAC
  // 48 kHz stereo tagged language "eng".
  const std::string& H264AacMp4();
  // 2 s, VP9 320x240 @25 solid blue for its first second, Opus 48 kHz stereo.
  const std::string& Vp9OpusWebm();
  // 2 s of a 440 Hz sine, MP3 44.1 kHz stereo, with a 400x300 solid green PNG as cover.
  const std::string& Mp3WithCover();
  // The same sound without cover art.
  const std::string& Mp3();
  // 1.5 s PCM s16le 44.1 kHz mono.
  const std::string& Wav();
  // Phone-style portrait video: coded 1280x720 H.264 with a display matrix turning it
  // 90 degrees clockwise (so it shows 720x1280); the left half of the coded picture is
  // red and the right half blue, so upright the top is red and the bottom blue. 1 s,
  // with AAC audio.
  const std::string& RotatedPhoneMp4();
  // MPEG-4 part 2, yuv420p, 1081x607 (odd both ways), solid red, 1 s, no audio.
  const std::string& OddSizeMp4();
  // 2 s AAC 48 kHz stereo in an MP4 (.m4a) without any picture.
  const std::string& AudioOnlyM4a();
  // 2 s H.264 640x360 @25 without audio; yellow for its first second.
  const std::string& VideoOnlyMp4();
  // A single 640x480 solid magenta PNG picture.
  const std::string& PngImage();
  // 10 s, H.264 320x240 @25 (testsrc2) with AAC 48 kHz stereo, for early-stop checks.
  const std::string& LongMp4();
  // Not media: an empty file, 64 KiB of seeded random bytes named .mp4, and
  // H264AacMp4 cut to half its size (its index, written last, is gone).
  const std::string& ZeroBytes();
  const std::string& RandomBytesMp4();
  const std::string& TruncatedMp4();
  // LongMp4 with the middle third of its media data (mdat) overwritten by seeded random
  // bytes: it probes like the original (its index is intact), but decoding and remuxing
  // its middle meet invalid data.
  const std::string& ScrambledMp4();
  // H264AacMp4 with all of its media data overwritten by seeded random bytes: it probes
  // as H.264 + AAC, but no frame decodes, so thumbnail and audio fail (unsupported_media).
  const std::string& UndecodableMp4();

  const TempDir& dir() const { return dir_; }

 private:
  const std::string& Make(const std::string& name,
                          const std::function<void(const std::string& path)>& make);

  TempDir dir_;
  std::map<std::string, std::string> made_;
};

}  // namespace reprise::testing
