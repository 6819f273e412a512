// fingerprint@1: a Chromaprint acoustic fingerprint of the main audio stream, the kind
// AcoustID uses, to find the same recording among assets whatever its encoding.
//
// The audio is decoded once at 11025 Hz mono s16 (Chromaprint's own working rate, so it
// resamples nothing) and fed to a CHROMAPRINT_ALGORITHM_DEFAULT context for at most
// `max_seconds`; after that the stage answers Feed::kDone, so a fingerprint alone stops
// the decode pass early on a long file. Writes no files.
//
// Metadata: {fingerprint: compressed base64 (chromaprint_encode_fingerprint, the same
// text `fpcalc` prints), duration_seconds_used: seconds of audio fed, algorithm:
// Chromaprint's algorithm number (1 = the default, TEST2)}.
//
// Limits: a fingerprint describes the first `max_seconds` only, so two files that differ
// later compare as equal; the fingerprint is not tempo- or pitch-shift invariant; very
// short, silent or purely stationary audio (a steady tone) gives fingerprints with little
// to tell apart. Skipped with "no_audio_stream", and "too_short" when the probed
// duration is under 3 s; an input that ends with under 3 s of audio fails with
// kUnsupportedMedia.
//
// Params (defaults): max_seconds 120 (3..3600).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class FingerprintStage final : public Stage {
 public:
  static constexpr std::string_view kName = "fingerprint";
  static constexpr int kVersion = 1;
  static constexpr int kSampleRate = 11025;
  static constexpr double kMinSeconds = 3.0;

  // `overrides`: the `[stages.fingerprint]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<FingerprintStage>> Create(
      const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  FingerprintStage(nlohmann::json params, int max_seconds)
      : params_(std::move(params)), max_seconds_(max_seconds) {}

  nlohmann::json params_;
  int max_seconds_;
};

// How alike two fingerprints from this stage are, 0 (unrelated) .. 1 (identical): both
// are decoded to raw 32-bit frames (one per ~0.124 s) and aligned at the offset within
// +-`max_offset_frames` whose overlap (at least half the shorter fingerprint) has the
// lowest bit error rate; the similarity is 1 - 2 * that rate, clamped to 0, since
// unrelated audio differs in about half its bits. The same recording re-encoded (MP3 at
// 128k) scores about 0.9 or more; unrelated audio under 0.3. kInvalidArgument when either
// text is not a fingerprint or they come from different algorithms. Pure; thread-safe.
[[nodiscard]] Result<double> FingerprintSimilarity(std::string_view a, std::string_view b,
                                                   int max_offset_frames = 80);

// A fingerprint decoded to its raw frames, for comparing one against many without
// decoding it again each time.
struct RawFingerprint {
  std::vector<uint32_t> frames;
  int algorithm = 0;
};

// kInvalidArgument when `text` is not a compressed base64 Chromaprint fingerprint.
[[nodiscard]] Result<RawFingerprint> DecodeFingerprint(std::string_view text);

// FingerprintSimilarity over decoded fingerprints; kInvalidArgument for different
// algorithms.
[[nodiscard]] Result<double> FingerprintSimilarity(const RawFingerprint& a, const RawFingerprint& b,
                                                   int max_offset_frames = 80);

}  // namespace reprise::stages
