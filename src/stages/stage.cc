#include "stages/stage.h"

#include <cstddef>
#include <span>
#include <string>

namespace reprise::stages {

Result<catalog::OutputBlob> WriteOutput(OutputSink& sink, std::string_view name,
                                        std::string_view content_type, std::string_view data) {
  auto writer = sink.Create(name);
  if (!writer) return Fail(writer.error());
  REPRISE_TRY((*writer)->Write(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size())));
  (*writer)->SetContentType(content_type);
  auto committed = (*writer)->Commit(name);
  if (!committed) return Fail(committed.error());
  catalog::OutputBlob blob{std::string(name), committed->key, committed->size,
                           std::string(content_type)};
  sink.Add(blob);
  return blob;
}

Result<std::string> ReadInputFile(const StageInputs& inputs, std::string_view stage,
                                  std::string_view name, int64_t max_bytes) {
  auto reader = inputs.Open(stage, name);
  if (!reader) return Fail(reader.error());
  auto too_large = [&] {
    return Fail(ErrorCode::kInvalidArgument, "input " + std::string(stage) + " file " +
                                                 std::string(name) + " is larger than " +
                                                 std::to_string(max_bytes) + " bytes");
  };
  if ((*reader)->Size() > max_bytes) return too_large();
  std::string out;
  std::byte buffer[64 * 1024];
  while (true) {
    auto n = (*reader)->Read(buffer);
    if (!n) return Fail(n.error());
    if (*n == 0) break;
    if (static_cast<int64_t>(out.size() + *n) > max_bytes) return too_large();
    out.append(reinterpret_cast<const char*>(buffer), *n);
  }
  return out;
}

}  // namespace reprise::stages
