// JobInputs: the results a job's consumer stages read (stages::StageInputs), gathered
// from two places: the stages that ran earlier in the same job (Record), and for inputs
// the job does not run, the catalog (LoadFromCatalog).
//
// An input is usable only when built by today's recipe: its current result if that has
// today's recipe, else the newest attempt under today's recipe if it was skipped. An input
// whose newest attempt under today's recipe failed (and has no current result of that
// recipe) reports that failure with its code, so a permanent failure of an input is a
// permanent failure of its consumers and a transient one is retried with them. An input
// without any attempt under today's recipe is kUnavailable: the job that builds it has
// not run yet (backfills and `process` enqueue missing inputs with their consumers).
//
// Files are opened from the blob store by the keys their derivative recorded.
// Thread-safety: Record() and LoadFromCatalog() before the consumers start (the runner's
// waves guarantee it); Get() and Open() from any thread afterwards.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "stages/registry.h"
#include "stages/stage.h"

namespace reprise::queue {

class JobInputs final : public stages::StageInputs {
 public:
  explicit JobInputs(blob::BlobStore& blobs) : blobs_(blobs) {}

  // The inputs of `due` that `due` does not contain, from the asset's derivative rows.
  [[nodiscard]] Result<void> LoadFromCatalog(catalog::Catalog& catalog,
                                             const stages::Registry& registry,
                                             const std::string& asset_id,
                                             const std::vector<const stages::Stage*>& due);
  // What a stage of this job ended with (its files, when done).
  void Record(std::string_view stage, catalog::DerivativeState state,
              const std::string& skip_reason, const std::optional<Error>& error,
              const nlohmann::json& metadata, const std::vector<catalog::OutputBlob>& files);

  Result<const stages::InputResult*> Get(std::string_view stage) const override;
  Result<std::unique_ptr<ByteReader>> Open(std::string_view stage,
                                           std::string_view name) const override;

 private:
  struct Entry {
    std::optional<stages::InputResult> result;
    std::optional<Error> failure;
  };
  blob::BlobStore& blobs_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace reprise::queue
