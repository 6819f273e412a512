// What the audio analysis stages (loudness, tempo, key, fingerprint) share: the one
// wrapper file for the C libraries they use (libebur128, aubio, FFTW, Chromaprint) —
// each handle gets a deleter and a unique_ptr alias here, and nothing else calls their
// free or destroy functions — and the skip rule for audio input.
#pragma once

#include <aubio/aubio.h>
#include <chromaprint.h>
#include <ebur128.h>
#include <fftw3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "media/media_info.h"

namespace reprise::stages {

// The skip reason shared by the audio analysis stages: "no_audio_stream" without a main
// audio stream, "too_short" when its probed duration (or the input's) is under
// `min_seconds`; nullopt when the duration is unknown.
std::optional<std::string> AudioSkipReason(const media::MediaInfo& info, double min_seconds);

// libebur128
struct Ebur128Deleter {
  void operator()(ebur128_state* state) const { ebur128_destroy(&state); }
};
using Ebur128Ptr = std::unique_ptr<ebur128_state, Ebur128Deleter>;

// aubio
struct AubioTempoDeleter {
  void operator()(aubio_tempo_t* tempo) const { del_aubio_tempo(tempo); }
};
struct AubioFvecDeleter {
  void operator()(fvec_t* vec) const { del_fvec(vec); }
};
using AubioTempoPtr = std::unique_ptr<aubio_tempo_t, AubioTempoDeleter>;
using AubioFvecPtr = std::unique_ptr<fvec_t, AubioFvecDeleter>;

// FFTW. Its planner keeps process-wide state and is not thread-safe (only fftw_execute
// is), and workers run stages on many threads: every plan is made and destroyed under
// this mutex.
std::mutex& FftwPlannerMutex();
struct FftwFree {
  void operator()(void* data) const { fftw_free(data); }
};
struct FftwPlanDestroy {
  void operator()(fftw_plan_s* plan) const {
    std::lock_guard lock(FftwPlannerMutex());
    fftw_destroy_plan(plan);
  }
};
using FftwRealBuffer = std::unique_ptr<double[], FftwFree>;
using FftwComplexBuffer = std::unique_ptr<fftw_complex[], FftwFree>;
using FftwPlanPtr = std::unique_ptr<fftw_plan_s, FftwPlanDestroy>;

// Chromaprint
struct ChromaprintContextFree {
  void operator()(ChromaprintContext* context) const { chromaprint_free(context); }
};
struct ChromaprintDealloc {
  void operator()(void* data) const { chromaprint_dealloc(data); }
};
using ChromaprintContextPtr = std::unique_ptr<ChromaprintContext, ChromaprintContextFree>;
using ChromaprintRawPtr = std::unique_ptr<uint32_t[], ChromaprintDealloc>;
using ChromaprintTextPtr = std::unique_ptr<char[], ChromaprintDealloc>;

}  // namespace reprise::stages
