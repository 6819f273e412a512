#include "stages/media_summary.h"

namespace reprise::stages {

catalog::MediaSummary Summarize(const media::MediaInfo& info) {
  catalog::MediaSummary summary;
  switch (info.Kind()) {
    case media::MediaKind::kVideo:
      summary.kind = catalog::AssetKind::kVideo;
      break;
    case media::MediaKind::kAudio:
      summary.kind = catalog::AssetKind::kAudio;
      break;
    case media::MediaKind::kImage:
      summary.kind = catalog::AssetKind::kImage;
      break;
    case media::MediaKind::kUnknown:
      summary.kind = catalog::AssetKind::kUnknown;
      break;
  }
  summary.container = info.container;
  summary.duration_seconds = info.duration_seconds;
  const media::StreamInfo* picture = info.BestVideo();
  if (picture != nullptr && summary.kind != catalog::AssetKind::kAudio) {
    summary.width = picture->DisplayWidth();
    summary.height = picture->DisplayHeight();
  }
  return summary;
}

}  // namespace reprise::stages
