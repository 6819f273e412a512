// Media probing reads whatever a user uploads or drops into a watched folder: any bytes
// must come back as MediaInfo or an Error, never a crash, a leak or a hang. The input is
// read through the same ByteReader → AVIOContext path ingest uses, then turned into the
// JSON the probe stage stores.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io.h"
#include "media/ffmpeg.h"
#include "media/media_info.h"
#include "media/probe.h"

namespace {

// Larger inputs only make each run slower (libav reads ahead to find stream info); the
// interesting structure of every container fits well within this.
constexpr size_t kMaxInputBytes = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  reprise::media::InitFfmpeg(/*quiet=*/true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputBytes) return -1;  // not added to the corpus
  auto reader = reprise::OpenMemoryReader(std::string(reinterpret_cast<const char*>(data), size),
                                          "fuzz-input");
  auto info = reprise::media::ProbeReader(*reader);
  if (!info) return 0;  // an error is a fine answer to arbitrary bytes
  nlohmann::json doc = reprise::media::ToJson(*info);
  // Stream metadata (language) is arbitrary bytes; the catalog stores it this way.
  std::string text = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.empty()) __builtin_trap();
  return 0;
}
