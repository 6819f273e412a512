// A fixture base for suites that read generated media: FFmpeg is initialised (quietly)
// and one MediaSamples is made when the suite starts, shared by its tests (each file is
// generated once, on first use) and removed when the suite ends.
//
// Header-only: reprise_test_support links reprise_core alone, and the binaries that use
// this already link the media library.
#pragma once

#include <gtest/gtest.h>

#include "media/ffmpeg.h"
#include "tests/support/media_samples.h"

namespace reprise::testing {

class MediaSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    media::InitFfmpeg(/*quiet=*/true);
    samples_ = new MediaSamples();
  }
  static void TearDownTestSuite() {
    delete samples_;
    samples_ = nullptr;
  }

  // Suites run one after another, so one pointer serves every suite built on this.
  static inline MediaSamples* samples_ = nullptr;
};

}  // namespace reprise::testing
