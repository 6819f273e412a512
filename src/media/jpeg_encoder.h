// Encodes one picture as a baseline JPEG (libavcodec's mjpeg encoder) into memory.
//
// `quality` is the mjpeg quantiser scale, 1 (best, largest) to 31 (worst), as ffmpeg's
// -q:v. Pictures not already in a full-range JPEG format (yuvj420p/422p/444p) are
// converted to yuvj420p first, same size. Errors: kInvalidArgument for a quality out of
// range or a picture that cannot be converted, kInternal when the encoder fails.
#pragma once

#include <string>

#include "core/error.h"
#include "media/ffmpeg.h"

namespace reprise::media {

[[nodiscard]] Result<std::string> EncodeJpeg(const AVFrame& picture, int quality);

}  // namespace reprise::media
