// Encodes one picture as a PNG (libavcodec's png encoder) into memory.
//
// Pictures in RGBA, RGB24 or GRAY8 are written as they are (RGBA keeps its alpha, so a
// transparent background stays transparent); any other pixel format is converted to
// RGBA first, same size. Errors: kInvalidArgument for a picture that cannot be
// converted, kInternal when the encoder fails. Thread-safe: no state is shared between
// calls.
#pragma once

#include <string>

#include "core/error.h"
#include "media/ffmpeg.h"

namespace reprise::media {

[[nodiscard]] Result<std::string> EncodePng(const AVFrame& picture);

}  // namespace reprise::media
