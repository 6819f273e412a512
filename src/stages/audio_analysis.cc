#include "stages/audio_analysis.h"

namespace reprise::stages {

std::optional<std::string> AudioSkipReason(const media::MediaInfo& info, double min_seconds) {
  const media::StreamInfo* audio = info.BestAudio();
  if (audio == nullptr) return "no_audio_stream";
  std::optional<double> seconds =
      audio->duration_seconds ? audio->duration_seconds : info.duration_seconds;
  if (seconds && *seconds < min_seconds) return "too_short";
  return std::nullopt;
}

std::mutex& FftwPlannerMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace reprise::stages
