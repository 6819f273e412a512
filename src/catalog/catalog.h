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
  // Schema version applied (highest row in schema_migrations) and the newest known.
  [[nodiscard]] virtual Result<int> SchemaVersion() = 0;

  // Inserts the asset unless one with the same id exists, in which case the existing
  // record is returned with created=false (ingesting the same content is a no-op).
  [[nodiscard]] virtual Result<InsertAssetResult> InsertAsset(const NewAsset& asset) = 0;
  [[nodiscard]] virtual Result<Asset> GetAsset(std::string_view id,
                                               const AssetFilter& scope) = 0;
  // Ordered by (created_at, id) ascending.
  [[nodiscard]] virtual Result<AssetPage> ListAssets(const AssetFilter& filter,
                                                     const PageRequest& page) = 0;
  [[nodiscard]] virtual Result<int64_t> CountAssets(const AssetFilter& filter) = 0;
  [[nodiscard]] virtual Result<void> SetAssetStatus(std::string_view id, AssetStatus status) = 0;

  // Inserts a kRunning attempt row for (asset, stage, recipe); returns its id.
  [[nodiscard]] virtual Result<int64_t> StartDerivative(std::string_view asset_id,
                                                        std::string_view stage,
                                                        int stage_version,
                                                        std::string_view recipe,
                                                        const nlohmann::json& params) = 0;
  [[nodiscard]] virtual Result<Derivative> CompleteDerivative(
      int64_t derivative_id, const DerivativeOutcome& outcome) = 0;
  // Every attempt row of the asset, newest first (history included).
  [[nodiscard]] virtual Result<std::vector<Derivative>> ListDerivatives(
      std::string_view asset_id) = 0;
  // The current result of (asset, stage), kNotFound when there is none.
  [[nodiscard]] virtual Result<Derivative> GetCurrentDerivative(std::string_view asset_id,
                                                                std::string_view stage) = 0;

  // How the asset stands for each given stage (see StageStatus), in the given order.
  [[nodiscard]] virtual Result<std::vector<StageStatus>> GetStageStatuses(
      std::string_view asset_id, const std::vector<StageRecipe>& stages) = 0;
  // Counts over every asset matching `filter`, computed in the database.
  [[nodiscard]] virtual Result<StageCounts> CountStageStatuses(const StageRecipe& stage,
                                                               const AssetFilter& filter) = 0;
};

}  // namespace reprise::catalog
