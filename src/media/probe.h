// Probing: what an opened input contains, as a MediaInfo of plain values.
//
// Probe() only reads what Input::Open() already gathered (container header, stream
// parameters, side data); it decodes nothing and cannot fail. ProbeReader() is the
// one-call form for callers that only want to recognise media (ingest): it opens the
// reader, probes and closes, with Input::Open()'s errors.
#pragma once

#include "core/error.h"
#include "core/io.h"
#include "media/input.h"
#include "media/media_info.h"

namespace reprise::media {

MediaInfo Probe(const Input& input);

Result<MediaInfo> ProbeReader(ByteReader& reader);

// Clockwise display rotation of a 3x3 display matrix (AV_PKT_DATA_DISPLAYMATRIX),
// rounded to 0, 90, 180 or 270.
int ClockwiseRotation(const int32_t* display_matrix);

}  // namespace reprise::media
