#include "stages/stage.h"

#include <cstddef>
#include <span>

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

}  // namespace reprise::stages
