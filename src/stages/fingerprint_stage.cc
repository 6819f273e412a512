#include "stages/fingerprint_stage.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <string>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

// Decodes a compressed base64 fingerprint; `which` names it in the error.
Result<RawFingerprint> DecodeAs(std::string_view text, std::string_view which) {
  uint32_t* frames = nullptr;
  int size = 0;
  int algorithm = 0;
  int ok = chromaprint_decode_fingerprint(text.data(), static_cast<int>(text.size()), &frames,
                                          &size, &algorithm, /*base64=*/1);
  ChromaprintRawPtr owned(frames);
  if (ok != 1 || size <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "fingerprint " + std::string(which) + " is not a Chromaprint fingerprint");
  }
  return RawFingerprint{{frames, frames + size}, algorithm};
}

class FingerprintRun final : public StageRun {
 public:
  FingerprintRun(ChromaprintContextPtr context, int64_t max_samples)
      : context_(std::move(context)), max_samples_(max_samples) {}

  Feed OnAudio(const media::AudioBuffer& audio) override {
    int64_t take = std::min<int64_t>(audio.frame->nb_samples, max_samples_ - samples_fed_);
    const auto* samples = reinterpret_cast<const int16_t*>(audio.frame->data[0]);
    if (take > 0 && chromaprint_feed(context_.get(), samples, static_cast<int>(take)) != 1) {
      failed_ = true;
      return Feed::kDone;
    }
    samples_fed_ += std::max<int64_t>(take, 0);
    return samples_fed_ >= max_samples_ ? Feed::kDone : Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& /*sink*/, bool /*input_ended*/) override {
    if (failed_) return Fail(ErrorCode::kInternal, "chromaprint rejected the audio");
    double seconds = static_cast<double>(samples_fed_) / FingerprintStage::kSampleRate;
    if (seconds < FingerprintStage::kMinSeconds) {
      return Fail(ErrorCode::kUnsupportedMedia, "too_short: under 3 s of audio to fingerprint");
    }
    if (chromaprint_finish(context_.get()) != 1) {
      return Fail(ErrorCode::kInternal, "chromaprint could not finish the fingerprint");
    }
    uint32_t* raw = nullptr;
    int raw_size = 0;
    int ok = chromaprint_get_raw_fingerprint(context_.get(), &raw, &raw_size);
    ChromaprintRawPtr raw_owner(raw);
    if (ok != 1 || raw_size <= 0) {
      return Fail(ErrorCode::kUnsupportedMedia, "chromaprint made no fingerprint of the audio");
    }
    const int algorithm = CHROMAPRINT_ALGORITHM_DEFAULT;  // what Start() asked for
    char* encoded = nullptr;
    int encoded_size = 0;
    ok = chromaprint_encode_fingerprint(raw, raw_size, algorithm, &encoded, &encoded_size,
                                        /*base64=*/1);
    ChromaprintTextPtr encoded_owner(encoded);
    if (ok != 1) return Fail(ErrorCode::kInternal, "chromaprint could not encode a fingerprint");
    StageResult result;
    result.metadata = {{"fingerprint", std::string(encoded, static_cast<size_t>(encoded_size))},
                       {"duration_seconds_used", seconds},
                       {"algorithm", algorithm}};
    return result;
  }

 private:
  ChromaprintContextPtr context_;
  int64_t max_samples_;
  int64_t samples_fed_ = 0;
  bool failed_ = false;
};

}  // namespace

Result<std::unique_ptr<FingerprintStage>> FingerprintStage::Create(
    const nlohmann::json& overrides) {
  auto params = MergeParams(kName, {{"max_seconds", 120}}, overrides);
  if (!params) return Fail(params.error());
  auto max_seconds = IntParam(kName, *params, "max_seconds", 3, 3600);
  if (!max_seconds) return Fail(max_seconds.error());
  return std::unique_ptr<FingerprintStage>(new FingerprintStage(std::move(*params), *max_seconds));
}

Consumption FingerprintStage::Consumes() const {
  Consumption wants;
  wants.audio =
      AudioRequest{.sample_rate = kSampleRate, .channels = 1, .sample_format = AV_SAMPLE_FMT_S16};
  return wants;
}

std::optional<std::string> FingerprintStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, kMinSeconds);
}

Result<std::unique_ptr<StageRun>> FingerprintStage::Start(const media::MediaInfo& /*info*/) const {
  ChromaprintContextPtr context(chromaprint_new(CHROMAPRINT_ALGORITHM_DEFAULT));
  if (!context) return Fail(ErrorCode::kInternal, "chromaprint_new failed");
  if (chromaprint_start(context.get(), kSampleRate, 1) != 1) {
    return Fail(ErrorCode::kInternal, "chromaprint_start failed");
  }
  return std::unique_ptr<StageRun>(std::make_unique<FingerprintRun>(
      std::move(context), static_cast<int64_t>(max_seconds_) * kSampleRate));
}

Result<RawFingerprint> DecodeFingerprint(std::string_view text) { return DecodeAs(text, "text"); }

Result<double> FingerprintSimilarity(std::string_view a, std::string_view b,
                                     int max_offset_frames) {
  auto first = DecodeAs(a, "a");
  if (!first) return Fail(first.error());
  auto second = DecodeAs(b, "b");
  if (!second) return Fail(second.error());
  return FingerprintSimilarity(*first, *second, max_offset_frames);
}

Result<double> FingerprintSimilarity(const RawFingerprint& a, const RawFingerprint& b,
                                     int max_offset_frames) {
  if (a.algorithm != b.algorithm) {
    return Fail(ErrorCode::kInvalidArgument,
                "fingerprints from different algorithms (" + std::to_string(a.algorithm) + " and " +
                    std::to_string(b.algorithm) + ") cannot be compared");
  }
  std::span<const uint32_t> x = a.frames;
  std::span<const uint32_t> y = b.frames;
  if (x.empty() || y.empty()) return 0.0;
  const int64_t min_overlap =
      std::max<int64_t>(1, static_cast<int64_t>(std::min(x.size(), y.size()) / 2));
  double best_error = 1.0;
  for (int offset = -max_offset_frames; offset <= max_offset_frames; ++offset) {
    // x[i] lines up with y[i + offset].
    int64_t begin = std::max<int64_t>(0, -offset);
    int64_t end =
        std::min<int64_t>(static_cast<int64_t>(x.size()), static_cast<int64_t>(y.size()) - offset);
    if (end - begin < min_overlap) continue;
    int64_t bits = 0;
    for (int64_t i = begin; i < end; ++i) bits += std::popcount(x[i] ^ y[i + offset]);
    best_error = std::min(best_error, static_cast<double>(bits) / (32.0 * (end - begin)));
  }
  return std::max(0.0, 1.0 - 2.0 * best_error);
}

}  // namespace reprise::stages
