// Catalog: the database of assets, derivatives, jobs and backfills. Backends: SQLite
// (catalog/sqlite, the embedded default) now, PostgreSQL later, behind this one
// interface; nothing above it names a database.
//
// Every state change is one transaction. Every query that returns assets takes an
// AssetFilter whose `owner`, when set, scopes the answer to that owner; an asset of
// another owner is reported as kNotFound, never as forbidden.
//
// Derivative history: StartDerivative() inserts a new attempt row; CompleteDerivative()
// finishes it, and only a successful (kDone) completion makes it the current result,
// demoting the previous current row in the same transaction. A failed attempt never
// removes the last good result.
//
// Errors: kNotFound, kInvalidArgument (bad cursor, bad enum text), kConflict
// (constraint violated), kUnavailable (database busy or unreachable, retry), kIo,
// kInternal. Thread-safety: a Catalog may be used from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

class Catalog {
 public:
  virtual ~Catalog() = default;

  // "sqlite:/path/catalog.db"
  [[nodiscard]] virtual std::string Describe() const = 0;
  // Schema version applied (highest row in schema_migrations).
  [[nodiscard]] virtual Result<int> SchemaVersion() = 0;

  // Inserts the asset (status kPending, created_at = updated_at = now) unless one with the
  // same id exists, in which case the existing record is returned with created=false
  // (ingesting the same content is a no-op). kConflict when that existing record has
  // another owner or sha256 (ids derive from both); kNotFound when parent_id names no
  // asset; kInvalidArgument for an empty id.
  [[nodiscard]] virtual Result<InsertAssetResult> InsertAsset(const NewAsset& asset) = 0;
  // kNotFound unless the asset exists and matches every field set in `scope`.
  [[nodiscard]] virtual Result<Asset> GetAsset(std::string_view id, const AssetFilter& scope) = 0;
  // Ordered by (created_at, id) ascending. page.limit must be positive (larger than the
  // backend's maximum, 1000, is trimmed); a cursor not returned by this call is
  // kInvalidArgument.
  [[nodiscard]] virtual Result<AssetPage> ListAssets(const AssetFilter& filter,
                                                     const PageRequest& page) = 0;
  [[nodiscard]] virtual Result<int64_t> CountAssets(const AssetFilter& filter) = 0;
  // Sets the status and updated_at; kNotFound for an unknown asset.
  [[nodiscard]] virtual Result<void> SetAssetStatus(std::string_view id, AssetStatus status) = 0;

  // Inserts a kRunning attempt row for (asset, stage, recipe) with started_at = now and
  // attempts = 1 + the rows already recorded for that (asset, stage, recipe); returns its
  // id. kNotFound for an unknown asset; kInvalidArgument for an empty stage or recipe.
  [[nodiscard]] virtual Result<int64_t> StartDerivative(std::string_view asset_id,
                                                        std::string_view stage, int stage_version,
                                                        std::string_view recipe,
                                                        const nlohmann::json& params) = 0;
  // Finishes a running attempt and returns the updated row (see the class comment for
  // the current-row rule; bytes = sum of blob sizes). The outcome must be kDone, kFailed
  // with an error, or kSkipped with a reason (else kInvalidArgument). kConflict when the
  // attempt already finished (a late second completion changes nothing); kNotFound for
  // an unknown id.
  [[nodiscard]] virtual Result<Derivative> CompleteDerivative(int64_t derivative_id,
                                                              const DerivativeOutcome& outcome) = 0;
  // Every attempt row of the asset, newest first (history included); kNotFound for an
  // unknown asset.
  [[nodiscard]] virtual Result<std::vector<Derivative>> ListDerivatives(
      std::string_view asset_id) = 0;
  // The current result of (asset, stage), kNotFound when there is none.
  [[nodiscard]] virtual Result<Derivative> GetCurrentDerivative(std::string_view asset_id,
                                                                std::string_view stage) = 0;

  // How the asset stands for each given stage (see StageStatus), in the given order;
  // kNotFound for an unknown asset. "Latest attempt" means the highest row id.
  [[nodiscard]] virtual Result<std::vector<StageStatus>> GetStageStatuses(
      std::string_view asset_id, const std::vector<StageRecipe>& stages) = 0;
  // Counts over every asset matching `filter`, computed in the database.
  [[nodiscard]] virtual Result<StageCounts> CountStageStatuses(const StageRecipe& stage,
                                                               const AssetFilter& filter) = 0;
};

}  // namespace reprise::catalog
