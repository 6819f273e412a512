// The test server's own checks: what it accepts as a JPEG and a WAV, and that it refuses
// requests a strict OpenAI server would refuse, so tests relying on it are not fooled.
#include "tests/support/openai_test_server.h"

#include <gtest/gtest.h>

#include "ai/openai_client.h"
#include "tests/ai/ai_fakes.h"

namespace reprise::testing {
namespace {

TEST(OpenAiTestServerJpeg, AcceptsWhatLibavcodecEncodes) {
  EXPECT_EQ(JpegProblem(ai::MakeJpeg(64, 48)), "");
  EXPECT_EQ(JpegProblem(ai::MakeJpeg(1, 1)), "");
}

TEST(OpenAiTestServerJpeg, RefusesBrokenJpegs) {
  const std::string jpeg = ai::MakeJpeg(64, 48);
  EXPECT_EQ(JpegProblem(""), "no SOI marker");
  EXPECT_EQ(JpegProblem("\x89PNG\r\n\x1a\n"), "no SOI marker");
  EXPECT_EQ(JpegProblem(jpeg.substr(0, jpeg.size() - 1)), "does not end with an EOI marker");
  // SOI then EOI: no frame at all.
  EXPECT_EQ(JpegProblem(std::string("\xFF\xD8\xFF\xD9", 4)), "no SOF segment");
  // The frame header's height set to 0.
  std::string zero = jpeg;
  const size_t sof = zero.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  zero[sof + 5] = 0;
  zero[sof + 6] = 0;
  EXPECT_EQ(JpegProblem(zero), "dimensions 64x0");
  // A segment length running past the end.
  std::string cut = jpeg.substr(0, sof + 4) + std::string("\xFF\xD9", 2);
  EXPECT_NE(JpegProblem(cut).find("runs past the end"), std::string::npos) << JpegProblem(cut);
}

TEST(OpenAiTestServerWav, AcceptsPcmAndGivesItsLength) {
  double seconds = 0;
  EXPECT_EQ(WavProblem(ai::MakeWav(2.5), &seconds), "");
  EXPECT_DOUBLE_EQ(seconds, 2.5);
}

TEST(OpenAiTestServerWav, RefusesBrokenWavs) {
  const std::string wav = ai::MakeWav(1.0);
  EXPECT_EQ(WavProblem("", nullptr), "not a RIFF WAVE file");
  EXPECT_EQ(WavProblem(wav.substr(0, 40), nullptr), "no data chunk");
  EXPECT_EQ(WavProblem(wav.substr(0, 1000), nullptr),
            "data chunk of 32000 bytes in a file of 1000");
  std::string adpcm = wav;
  adpcm[20] = 2;  // format 2: MS ADPCM
  EXPECT_EQ(WavProblem(adpcm, nullptr), "format 2");
}

class OpenAiTestServerHttp : public ::testing::Test {
 protected:
  ai::OpenAiClient Client(const std::string& key) {
    ai::ServiceConfig config;
    config.base_url = server_.base_url();
    config.api_key = key;
    auto client = ai::OpenAiClient::Create(config, {clock_, sleeper_, random_, *limiter_});
    EXPECT_TRUE(client);
    return std::move(*client);
  }

  FakeClock clock_;
  ai::FakeSleeper sleeper_{clock_};
  SeededRandom random_{1};
  std::unique_ptr<ai::ProcessRequestLimiter> limiter_ =
      std::move(*ai::ProcessRequestLimiter::Create(ai::Limits(2), clock_, sleeper_));
  OpenAiTestServer server_;
};

TEST_F(OpenAiTestServerHttp, RefusesAMissingKeyOnEveryEndpoint) {
  ai::OpenAiClient client = Client("");
  EXPECT_FALSE(client.ListModels());
  ai::TranscribeRequest transcription;
  transcription.model = "test-whisper";
  transcription.wav = ai::MakeWav(0.5);
  EXPECT_FALSE(client.Transcribe(transcription));
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 2U);
  for (const OpenAiCall& call : calls) {
    EXPECT_EQ(call.status, 401) << call.path;
    EXPECT_EQ(call.authorization, "");
  }
}

TEST_F(OpenAiTestServerHttp, RefusesAnUnknownTranscriptionModel) {
  ai::TranscribeRequest transcription;
  transcription.model = "whisper-9";
  transcription.wav = ai::MakeWav(0.5);
  auto result = Client("test-key").Transcribe(transcription);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace reprise::testing
