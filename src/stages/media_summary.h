// The asset-level summary of a probed input (kind, container, duration, display size)
// that the probe stage reflects onto the asset record. It lives in stages because media
// must not know the catalog's types; the decisions themselves are media's
// (MediaInfo::Kind(), StreamInfo::DisplayWidth()).
#pragma once

#include "catalog/types.h"
#include "media/media_info.h"

namespace reprise::stages {

// Width and height are the display size (rotation applied) of the main video stream of
// a video or image (audio has none, even with cover art); duration is the container's.
catalog::MediaSummary Summarize(const media::MediaInfo& info);

}  // namespace reprise::stages
