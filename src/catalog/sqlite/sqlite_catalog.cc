#include "catalog/sqlite/sqlite_catalog.h"

#include <algorithm>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/migrations/migrations.h"
#include "catalog/sqlite/sqlite_backfills.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_events.h"
#include "catalog/sqlite/sqlite_jobs.h"
#include "catalog/sqlite/sqlite_migrator.h"
#include "catalog/sqlite/sqlite_queries.h"
#include "catalog/sqlite/sqlite_rollback.h"
#include "catalog/sqlite/sqlite_search.h"

namespace reprise::catalog {
namespace {

using nlohmann::json;

// Database errors get the operation prepended; the catalog's own errors (not found,
// invalid argument) already say what they are about.
Error InContext(Error error, std::string_view context) {
  if (error.origin.rfind("sqlite:", 0) == 0) return error.Wrap(context);
  return error;
}

tl::unexpected<Error> AssetNotFound(std::string_view id) {
  return Fail(ErrorCode::kNotFound, "asset " + std::string(id) + " not found");
}

bool IsForeignKeyViolation(const Error& error) {
  return error.origin == "sqlite:" + std::to_string(SQLITE_CONSTRAINT_FOREIGNKEY);
}

Result<Asset> LoadAsset(SqliteConnection& db, std::string_view id, const AssetFilter& scope) {
  SqlQuery query = AssetWhere(scope);
  query.sql = "SELECT " + std::string(kAssetColumns) + " FROM assets a" + query.sql +
              (query.binds.empty() ? " WHERE " : " AND ") + "a.id = ?";
  query.binds.emplace_back(std::string(id));
  auto select = db.Prepare(query.sql);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(query.binds);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return AssetNotFound(id);
  return ReadAsset(*select);
}

Result<bool> AssetExists(SqliteConnection& db, std::string_view id) {
  auto select = db.Prepare("SELECT 1 FROM assets WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(id);
  return select->Step();
}

Result<Derivative> LoadDerivative(SqliteConnection& db, int64_t id) {
  auto select =
      db.Prepare("SELECT " + std::string(kDerivativeColumns) + " FROM derivatives WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) {
    return Fail(ErrorCode::kNotFound, "derivative " + std::to_string(id) + " not found");
  }
  return ReadDerivative(*select);
}

Result<StageCounts> CountStatuses(SqliteConnection& db, const StageRecipe& stage,
                                  const AssetFilter& filter) {
  SqlQuery query = StageStatusCountsQuery(stage, filter);
  auto select = db.Prepare(query.sql);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(query.binds);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(ErrorCode::kInternal, "stage status query returned no row");
  StageCounts counts;
  counts.current = select->Int64(0);
  counts.outdated = select->Int64(1);
  counts.missing = select->Int64(2);
  counts.failed = select->Int64(3);
  counts.skipped = select->Int64(4);
  counts.quarantined = select->Int64(5);
  return counts;
}

// Inserts the asset unless its id exists (see Catalog::InsertAsset), inside the caller's
// write transaction.
Result<InsertAssetResult> InsertAssetIn(SqliteConnection& db, const NewAsset& asset, int64_t now) {
  REPRISE_TRY(CheckNewAsset(asset));
  bool created = false;
  {
    auto insert = db.Prepare(
        "INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,"
        " original_name, source_uri, status, kind, container, duration_seconds, width,"
        " height, parent_id, refs, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO NOTHING RETURNING id");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindText(asset.id)
        .BindText(asset.owner)
        .BindText(Name(asset.source))
        .BindText(asset.sha256_hex)
        .BindText(asset.cid)
        .BindInt64(asset.size_bytes)
        .BindText(asset.original_key)
        .BindText(asset.original_name)
        .BindText(asset.source_uri)
        .BindText(Name(AssetStatus::kPending))
        .BindText(Name(asset.media.kind))
        .BindText(asset.media.container)
        .BindOptionalDouble(asset.media.duration_seconds)
        .BindOptionalInt64(asset.media.width)
        .BindOptionalInt64(asset.media.height)
        .BindOptionalText(asset.parent_id)
        .BindText(RefsToJson(asset.refs))
        .BindInt64(now)
        .BindInt64(now);
    auto row = insert->Step();
    if (!row) {
      if (IsForeignKeyViolation(row.error())) {
        return Fail(ErrorCode::kNotFound,
                    "parent asset " + asset.parent_id.value_or("") + " not found");
      }
      return Fail(std::move(row.error()));
    }
    created = *row;
    if (created) REPRISE_TRY(insert->Run());  // finish the statement before COMMIT
  }
  auto stored = LoadAsset(db, asset.id, {});
  if (!stored) return Fail(std::move(stored.error()));
  // The id is derived from (owner, content); a record that disagrees means two
  // different things were given one id, and returning the other one would leak it.
  if (!created && (stored->owner != asset.owner || stored->sha256_hex != asset.sha256_hex)) {
    return Fail(ErrorCode::kConflict,
                "asset id " + asset.id + " is already used by different content or owner");
  }
  if (created) {
    Event event;
    event.type = std::string(kEventAssetCreated);
    event.owner = stored->owner;
    event.asset_id = stored->id;
    event.data = {{"kind", Name(stored->media.kind)},
                  {"source", Name(stored->source)},
                  {"original_name", stored->original_name}};
    REPRISE_TRY(AppendEvent(db, now, std::move(event)));
  }
  return InsertAssetResult{std::move(*stored), created};
}

}  // namespace

SqliteCatalog::SqliteCatalog(std::string path, const Clock& clock,
                             std::unique_ptr<SqliteConnection> connection)
    : path_(std::move(path)), clock_(clock), connection_(std::move(connection)) {
  connection_->SetChangeHook([this](const Change& change) { listeners_.Tell(change); });
}

SqliteCatalog::~SqliteCatalog() = default;

Result<std::unique_ptr<Catalog>> SqliteCatalog::Open(const std::string& path, const Clock& clock,
                                                     bool create) {
  auto connection = SqliteConnection::Open(path, create);
  if (!connection) return Fail(std::move(connection.error()));
  auto migrations = SqliteMigrations();
  auto migrated =
      MigrateSqlite(**connection, migrations, static_cast<int>(migrations.size()), clock);
  if (!migrated) return Fail(InContext(std::move(migrated.error()), "migrating " + path));
  return std::unique_ptr<Catalog>(new SqliteCatalog(path, clock, std::move(*connection)));
}

std::string SqliteCatalog::Describe() const { return "sqlite:" + path_; }

Result<int> SqliteCatalog::SchemaVersion() {
  std::lock_guard lock(mu_);
  auto version = AppliedSchemaVersion(*connection_);
  if (!version) return Fail(InContext(std::move(version.error()), "reading the schema version"));
  return version;
}

Result<InsertAssetResult> SqliteCatalog::InsertAsset(const NewAsset& asset) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate,
                              [&] { return InsertAssetIn(db, asset, clock_.NowMicros()); });
  if (!result) return Fail(InContext(std::move(result.error()), "inserting asset " + asset.id));
  return result;
}

Result<Asset> SqliteCatalog::GetAsset(std::string_view id, const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  auto asset = LoadAsset(*connection_, id, scope);
  if (!asset) return Fail(InContext(std::move(asset.error()), "reading asset " + std::string(id)));
  return asset;
}

Result<AssetPage> SqliteCatalog::ListAssets(const AssetFilter& filter, const PageRequest& page) {
  auto checked_limit = CheckedPageLimit(page);
  if (!checked_limit) return Fail(std::move(checked_limit.error()));
  const int limit = *checked_limit;
  auto query = ListAssetsQuery(filter, page.cursor, limit);
  if (!query) return Fail(std::move(query.error()));
  std::lock_guard lock(mu_);
  auto run = [&]() -> Result<AssetPage> {
    auto select = connection_->Prepare(query->sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query->binds);
    AssetPage result;
    while (true) {
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) break;
      if (static_cast<int>(result.items.size()) == limit) {
        // One row beyond the page: there is more, and the cursor points after the last
        // item returned.
        const Asset& last = result.items.back();
        result.next_cursor = EncodeAssetCursor(last.created_at, last.id);
        break;
      }
      auto asset = ReadAsset(*select);
      if (!asset) return Fail(std::move(asset.error()));
      result.items.push_back(std::move(*asset));
    }
    return result;
  };
  auto result = run();
  if (!result) return Fail(InContext(std::move(result.error()), "listing assets"));
  return result;
}

Result<int64_t> SqliteCatalog::CountAssets(const AssetFilter& filter) {
  SqlQuery query = CountAssetsQuery(filter);
  std::lock_guard lock(mu_);
  auto run = [&]() -> Result<int64_t> {
    auto select = connection_->Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    return *row ? select->Int64(0) : 0;
  };
  auto result = run();
  if (!result) return Fail(InContext(std::move(result.error()), "counting assets"));
  return result;
}

Result<std::map<std::string, int64_t>> SqliteCatalog::CountAssetsByOwner(
    const AssetFilter& filter) {
  SqlQuery query = CountAssetsByOwnerQuery(filter);
  std::lock_guard lock(mu_);
  std::map<std::string, int64_t> counts;
  auto run = [&]() -> Result<void> {
    auto select = connection_->Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    return select->ForEachRow([&](const Statement& row) -> Result<bool> {
      counts[row.Text(0)] = row.Int64(1);
      return true;
    });
  };
  if (auto result = run(); !result) {
    return Fail(InContext(std::move(result.error()), "counting assets per owner"));
  }
  return counts;
}

Result<void> SqliteCatalog::SetAssetStatus(std::string_view id, AssetStatus status) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<void> {
    const int64_t now = clock_.NowMicros();
    std::string previous;
    std::string owner;
    {
      auto select = db.Prepare("SELECT status, owner FROM assets WHERE id = ?");
      if (!select) return Fail(std::move(select.error()));
      select->BindText(id);
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) return AssetNotFound(id);
      previous = select->Text(0);
      owner = select->Text(1);
      REPRISE_TRY(select->Run());
    }
    {
      auto update = db.Prepare("UPDATE assets SET status = ?, updated_at = ? WHERE id = ?");
      if (!update) return Fail(std::move(update.error()));
      update->BindText(Name(status)).BindInt64(now).BindText(id);
      REPRISE_TRY(update->Run());
    }
    // Only a real change is news; pending is where work waits, not an outcome.
    if (previous == Name(status) || status == AssetStatus::kPending) return {};
    Event event;
    event.type = status == AssetStatus::kReady    ? std::string(kEventAssetReady)
                 : status == AssetStatus::kFailed ? std::string(kEventAssetFailed)
                                                  : std::string(kEventAssetProcessing);
    event.owner = std::move(owner);
    event.asset_id = std::string(id);
    event.data = {{"status", Name(status)}, {"previous_status", previous}};
    REPRISE_TRY(AppendEvent(db, now, std::move(event)));
    return {};
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "setting status of asset " + std::string(id)));
  }
  return {};
}

Result<int64_t> SqliteCatalog::StartDerivative(std::string_view asset_id, std::string_view stage,
                                               int stage_version, std::string_view recipe,
                                               const nlohmann::json& params) {
  REPRISE_TRY(CheckDerivativeStart(stage, recipe));
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto run = [&]() -> Result<int64_t> {
    auto txn = Transaction::Begin(db, Transaction::Mode::kImmediate);
    if (!txn) return Fail(std::move(txn.error()));
    int64_t earlier = 0;
    {
      auto count = db.Prepare(
          "SELECT COUNT(*) FROM derivatives WHERE asset_id = ? AND stage = ? AND recipe = ?");
      if (!count) return Fail(std::move(count.error()));
      count->BindText(asset_id).BindText(stage).BindText(recipe);
      auto row = count->Step();
      if (!row) return Fail(std::move(row.error()));
      earlier = *row ? count->Int64(0) : 0;
    }
    int64_t id = 0;
    {
      const int64_t now = clock_.NowMicros();
      auto insert = db.Prepare(
          "INSERT INTO derivatives (asset_id, stage, stage_version, recipe, params, state,"
          " attempts, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
      if (!insert) return Fail(std::move(insert.error()));
      insert->BindText(asset_id)
          .BindText(stage)
          .BindInt64(stage_version)
          .BindText(recipe)
          .BindText(DumpJson(params))
          .BindText(Name(DerivativeState::kRunning))
          .BindInt64(earlier + 1)
          .BindInt64(now)
          .BindInt64(now);
      auto row = insert->Step();
      if (!row) {
        if (IsForeignKeyViolation(row.error())) return AssetNotFound(asset_id);
        return Fail(std::move(row.error()));
      }
      if (!*row) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no id");
      id = insert->Int64(0);
      REPRISE_TRY(insert->Run());
    }
    REPRISE_TRY(txn->Commit());
    return id;
  };
  auto result = run();
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "starting " + std::string(stage) + " on asset " + std::string(asset_id)));
  }
  return result;
}

Result<Derivative> SqliteCatalog::CompleteDerivative(int64_t derivative_id,
                                                     const DerivativeOutcome& outcome) {
  REPRISE_TRY(ValidateOutcome(outcome));
  REPRISE_TRY(CheckSearchEntries(outcome.search));
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto run = [&]() -> Result<Derivative> {
    auto txn = Transaction::Begin(db, Transaction::Mode::kImmediate);
    if (!txn) return Fail(std::move(txn.error()));
    auto attempt = LoadDerivative(db, derivative_id);
    if (!attempt) return Fail(std::move(attempt.error()));
    // A late completion (e.g. from a worker whose lease was taken over) must not rewrite
    // a result that is already recorded.
    if (attempt->state != DerivativeState::kRunning &&
        attempt->state != DerivativeState::kPending) {
      return Fail(ErrorCode::kConflict, "derivative " + std::to_string(derivative_id) +
                                            " is already " + std::string(Name(attempt->state)));
    }
    const bool done = outcome.state == DerivativeState::kDone;
    const int64_t now = clock_.NowMicros();
    if (done) {
      // Demote first: the partial unique index allows one current row at any moment.
      auto demote = db.Prepare(
          "UPDATE derivatives SET is_current = 0"
          " WHERE asset_id = ? AND stage = ? AND is_current = 1");
      if (!demote) return Fail(std::move(demote.error()));
      demote->BindText(attempt->asset_id).BindText(attempt->stage);
      REPRISE_TRY(demote->Run());
    }
    {
      int64_t bytes = 0;
      for (const auto& blob : outcome.blobs) bytes += blob.size;
      std::string error_code;
      std::string error_message;
      if (outcome.state == DerivativeState::kFailed && outcome.error) {
        error_code = ErrorCodeName(outcome.error->code);
        error_message = outcome.error->message;
        if (!outcome.error->origin.empty()) error_message += " (" + outcome.error->origin + ")";
      }
      auto update = db.Prepare(
          "UPDATE derivatives SET state = ?, skip_reason = ?, error_code = ?,"
          " error_message = ?, metadata = ?, blobs = ?, bytes = ?, is_current = ?,"
          " finished_at = ? WHERE id = ?");
      if (!update) return Fail(std::move(update.error()));
      update->BindText(Name(outcome.state))
          .BindText(outcome.state == DerivativeState::kSkipped ? outcome.skip_reason : "")
          .BindText(error_code)
          .BindText(error_message)
          .BindText(DumpJson(outcome.metadata))
          .BindText(BlobsToJson(outcome.blobs))
          .BindInt64(bytes)
          .BindInt64(done ? 1 : 0)
          .BindInt64(now)
          .BindInt64(derivative_id);
      REPRISE_TRY(update->Run());
    }
    if (done) {
      REPRISE_TRY(
          StoreSearchEntries(db, derivative_id, attempt->asset_id, attempt->stage, outcome.search));
    }
    if (outcome.asset_media) {
      const MediaSummary& media = *outcome.asset_media;
      auto update = db.Prepare(
          "UPDATE assets SET kind = ?, container = ?, duration_seconds = ?, width = ?,"
          " height = ?, updated_at = ? WHERE id = ?");
      if (!update) return Fail(std::move(update.error()));
      update->BindText(Name(media.kind))
          .BindText(media.container)
          .BindOptionalDouble(media.duration_seconds)
          .BindOptionalInt64(media.width)
          .BindOptionalInt64(media.height)
          .BindInt64(now)
          .BindText(attempt->asset_id);
      REPRISE_TRY(update->Run());
    }
    auto finished = LoadDerivative(db, derivative_id);
    if (!finished) return Fail(std::move(finished.error()));
    REPRISE_TRY(txn->Commit());
    return finished;
  };
  auto result = run();
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "completing derivative " + std::to_string(derivative_id)));
  }
  return result;
}

Result<std::vector<Derivative>> SqliteCatalog::ListDerivatives(std::string_view asset_id) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto run = [&]() -> Result<std::vector<Derivative>> {
    auto txn = Transaction::Begin(db, Transaction::Mode::kDeferred);
    if (!txn) return Fail(std::move(txn.error()));
    auto exists = AssetExists(db, asset_id);
    if (!exists) return Fail(std::move(exists.error()));
    if (!*exists) return AssetNotFound(asset_id);
    std::vector<Derivative> derivatives;
    {
      auto select = db.Prepare("SELECT " + std::string(kDerivativeColumns) +
                               " FROM derivatives WHERE asset_id = ? ORDER BY id DESC");
      if (!select) return Fail(std::move(select.error()));
      select->BindText(asset_id);
      while (true) {
        auto row = select->Step();
        if (!row) return Fail(std::move(row.error()));
        if (!*row) break;
        auto derivative = ReadDerivative(*select);
        if (!derivative) return Fail(std::move(derivative.error()));
        derivatives.push_back(std::move(*derivative));
      }
    }
    REPRISE_TRY(txn->Commit());
    return derivatives;
  };
  auto result = run();
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "listing derivatives of asset " + std::string(asset_id)));
  }
  return result;
}

Result<Derivative> SqliteCatalog::GetCurrentDerivative(std::string_view asset_id,
                                                       std::string_view stage) {
  std::lock_guard lock(mu_);
  auto run = [&]() -> Result<Derivative> {
    auto select = connection_->Prepare("SELECT " + std::string(kDerivativeColumns) +
                                       " FROM derivatives"
                                       " WHERE asset_id = ? AND stage = ? AND is_current = 1");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(asset_id).BindText(stage);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) {
      return Fail(ErrorCode::kNotFound, "asset " + std::string(asset_id) + " has no current " +
                                            std::string(stage) + " result");
    }
    return ReadDerivative(*select);
  };
  auto result = run();
  if (!result) {
    return Fail(InContext(std::move(result.error()), "reading current " + std::string(stage) +
                                                         " of asset " + std::string(asset_id)));
  }
  return result;
}

Result<std::vector<StageStatus>> SqliteCatalog::GetStageStatuses(
    std::string_view asset_id, const std::vector<StageRecipe>& stages) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto run = [&]() -> Result<std::vector<StageStatus>> {
    auto txn = Transaction::Begin(db, Transaction::Mode::kDeferred);
    if (!txn) return Fail(std::move(txn.error()));
    auto exists = AssetExists(db, asset_id);
    if (!exists) return Fail(std::move(exists.error()));
    if (!*exists) return AssetNotFound(asset_id);
    // The aggregate over a one-asset filter: the same SQL as CountStageStatuses, so the
    // per-asset answer and the library-wide counts cannot drift apart.
    AssetFilter one;
    one.ids.emplace_back(asset_id);
    std::vector<StageStatus> statuses;
    for (const auto& stage : stages) {
      auto counts = CountStatuses(db, stage, one);
      if (!counts) return Fail(std::move(counts.error()));
      // Exactly one of the counts is 1.
      if (counts->current > 0) {
        statuses.push_back(StageStatus::kCurrent);
      } else if (counts->outdated > 0) {
        statuses.push_back(StageStatus::kOutdated);
      } else if (counts->failed > 0) {
        statuses.push_back(StageStatus::kFailed);
      } else if (counts->skipped > 0) {
        statuses.push_back(StageStatus::kSkipped);
      } else if (counts->quarantined > 0) {
        statuses.push_back(StageStatus::kQuarantined);
      } else {
        statuses.push_back(StageStatus::kMissing);
      }
    }
    REPRISE_TRY(txn->Commit());
    return statuses;
  };
  auto result = run();
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "reading stage statuses of asset " + std::string(asset_id)));
  }
  return result;
}

Result<void> SqliteCatalog::ScanCurrentResults(std::string_view stage, const AssetFilter& filter,
                                               const CurrentResultVisitor& visit) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred, [&]() -> Result<void> {
    SqlQuery conditions = AssetConditions(filter);
    auto select = db.Prepare(
        "SELECT a.id, a.original_name, a.duration_seconds, d.recipe, d.metadata FROM assets a"
        " CROSS JOIN derivatives d INDEXED BY derivatives_current"
        " WHERE d.asset_id = a.id AND d.stage = ? AND d.is_current = 1" +
        conditions.sql + " ORDER BY a.created_at, a.id");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(stage);
    select->BindAll(conditions.binds);
    return select->ForEachRow([&](const Statement& row) -> Result<bool> {
      CurrentResult current;
      current.asset_id = row.Text(0);
      current.asset_name = row.Text(1);
      current.duration_seconds = row.OptionalDouble(2);
      current.recipe = row.Text(3);
      current.metadata = nlohmann::json::parse(row.Text(4), nullptr, /*allow_exceptions=*/false);
      if (current.metadata.is_discarded()) {
        return Fail(ErrorCode::kInternal,
                    "stored metadata of " + current.asset_id + " is not JSON");
      }
      return visit(current);
    });
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "scanning current " + std::string(stage) + " results"));
  }
  return result;
}

Result<StageCounts> SqliteCatalog::CountStageStatuses(const StageRecipe& stage,
                                                      const AssetFilter& filter) {
  std::lock_guard lock(mu_);
  auto result = CountStatuses(*connection_, stage, filter);
  if (!result) {
    return Fail(InContext(std::move(result.error()), "counting " + stage.stage + " statuses"));
  }
  return result;
}

// ---- The durable queue: each method is one transaction around one SqliteJobs call ------

Result<InsertAssetResult> SqliteCatalog::InsertAssetWithJob(const NewAsset& asset,
                                                            const NewJob& job) {
  REPRISE_TRY(CheckAssetWithJob(asset, job));
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result =
      InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<InsertAssetResult> {
        const int64_t now = clock_.NowMicros();
        auto inserted = InsertAssetIn(db, asset, now);
        if (!inserted || !inserted->created) return inserted;
        NewJob for_asset = job;
        for_asset.asset_id = asset.id;
        auto enqueued = SqliteJobs(db, now).Enqueue(for_asset);
        if (!enqueued) return Fail(std::move(enqueued.error()));
        return inserted;
      });
  if (!result) {
    return Fail(
        InContext(std::move(result.error()), "inserting asset " + asset.id + " with its job"));
  }
  return result;
}

Result<EnqueueResult> SqliteCatalog::Enqueue(const NewJob& job) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate,
                              [&] { return SqliteJobs(db, clock_.NowMicros()).Enqueue(job); });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "enqueuing work on asset " + job.asset_id));
  }
  return result;
}

Result<std::vector<Job>> SqliteCatalog::ClaimJobs(const ClaimRequest& request) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate,
                              [&] { return SqliteJobs(db, clock_.NowMicros()).Claim(request); });
  if (!result) {
    return Fail(
        InContext(std::move(result.error()), "claiming jobs for worker " + request.worker_id));
  }
  return result;
}

Result<bool> SqliteCatalog::RenewLease(int64_t job_id, std::string_view worker_id,
                                       int64_t lease_micros) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&] {
    return SqliteJobs(db, clock_.NowMicros()).Renew(job_id, worker_id, lease_micros);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "renewing the lease on job " + std::to_string(job_id)));
  }
  return result;
}

Result<void> SqliteCatalog::FinishJob(int64_t job_id, std::string_view worker_id,
                                      const JobOutcome& outcome) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&] {
    return SqliteJobs(db, clock_.NowMicros()).Finish(job_id, worker_id, outcome);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "finishing job " + std::to_string(job_id)));
  }
  return {};
}

Result<std::vector<Job>> SqliteCatalog::FinishJobAndClaim(int64_t job_id,
                                                          std::string_view worker_id,
                                                          const JobOutcome& outcome,
                                                          const ClaimRequest& next) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<std::vector<Job>> {
    SqliteJobs jobs(db, clock_.NowMicros());
    REPRISE_TRY(jobs.Finish(job_id, worker_id, outcome));
    return jobs.Claim(next);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "finishing job " + std::to_string(job_id) + " and claiming the next"));
  }
  return result;
}

Result<void> SqliteCatalog::ReleaseJob(int64_t job_id, std::string_view worker_id) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&] {
    return SqliteJobs(db, clock_.NowMicros()).Release(job_id, worker_id);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "releasing job " + std::to_string(job_id)));
  }
  return {};
}

Result<int64_t> SqliteCatalog::ReapExpiredLeases() {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate,
                              [&] { return SqliteJobs(db, clock_.NowMicros()).ReapExpired(); });
  if (!result) return Fail(InContext(std::move(result.error()), "reaping expired leases"));
  return result;
}

Result<Job> SqliteCatalog::GetJob(int64_t job_id, const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred, [&] {
    return SqliteJobs(db, clock_.NowMicros()).Get(job_id, scope);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "reading job " + std::to_string(job_id)));
  }
  return result;
}

Result<std::map<int64_t, JobState>> SqliteCatalog::GetJobStates(
    const std::vector<int64_t>& job_ids) {
  std::map<int64_t, JobState> states;
  if (job_ids.empty()) return states;
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred, [&]() -> Result<void> {
    states.clear();
    auto select =
        db.Prepare("SELECT id, state FROM jobs WHERE id IN (SELECT value FROM json_each(?))");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(nlohmann::json(job_ids).dump());
    return select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto state = ParseJobState(row.Text(1));
      if (!state) return Fail(std::move(state.error()));
      states[row.Int64(0)] = *state;
      return true;
    });
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()),
                          "reading the states of " + std::to_string(job_ids.size()) + " jobs"));
  }
  return states;
}

Result<JobPage> SqliteCatalog::ListJobs(const JobFilter& filter, const PageRequest& page) {
  auto checked_limit = CheckedPageLimit(page);
  if (!checked_limit) return Fail(std::move(checked_limit.error()));
  const int limit = *checked_limit;
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred, [&] {
    return SqliteJobs(db, clock_.NowMicros()).List(filter, page.cursor, limit);
  });
  if (!result) return Fail(InContext(std::move(result.error()), "listing jobs"));
  return result;
}

Result<int64_t> SqliteCatalog::RetryJobs(const JobFilter& filter) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate,
                              [&] { return SqliteJobs(db, clock_.NowMicros()).Retry(filter); });
  if (!result) return Fail(InContext(std::move(result.error()), "retrying jobs"));
  return result;
}

Result<JobState> SqliteCatalog::CancelJob(int64_t job_id, const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&] {
    return SqliteJobs(db, clock_.NowMicros()).Cancel(job_id, scope);
  });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "cancelling job " + std::to_string(job_id)));
  }
  return result;
}

Result<QueueStats> SqliteCatalog::GetQueueStats(const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred,
                              [&] { return SqliteJobs(db, clock_.NowMicros()).Stats(scope); });
  if (!result) return Fail(InContext(std::move(result.error()), "reading queue statistics"));
  return result;
}

Result<bool> SqliteCatalog::QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                                 std::string_view recipe, int threshold) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kImmediate, [&] {
    return SqliteJobs(db, clock_.NowMicros())
        .QuarantineIfRepeated(asset_id, stage, recipe, threshold);
  });
  if (!result) {
    return Fail(InContext(
        std::move(result.error()),
        "checking quarantine of " + std::string(stage) + " on asset " + std::string(asset_id)));
  }
  return result;
}

Result<std::vector<QuarantineEntry>> SqliteCatalog::ListQuarantine(const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(db, Transaction::Mode::kDeferred, [&] {
    return SqliteJobs(db, clock_.NowMicros()).ListQuarantine(scope);
  });
  if (!result) return Fail(InContext(std::move(result.error()), "listing quarantine"));
  return result;
}

// ---- Backfills: each method is one transaction around one SqliteBackfills call ---------

template <class Body>
auto SqliteCatalog::WithBackfills(bool write, const std::string& what, Body&& body) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result =
      InTransaction(db, write ? Transaction::Mode::kImmediate : Transaction::Mode::kDeferred, [&] {
        SqliteBackfills backfills(db, clock_.NowMicros());
        return body(backfills);
      });
  if (!result) return decltype(result)(Fail(InContext(std::move(result.error()), what)));
  return result;
}

Result<void> SqliteCatalog::ScanStagePairs(const std::vector<StageRecipe>& stages,
                                           const AssetFilter& filter, const PairVisitor& visit) {
  return WithBackfills(false, "scanning stage pairs",
                       [&](SqliteBackfills& b) { return b.ScanPairs(stages, filter, visit); });
}

Result<Backfill> SqliteCatalog::CreateBackfill(const NewBackfill& backfill,
                                               const AssetFilter& filter,
                                               const PairSelector& select) {
  return WithBackfills(true, "creating a backfill",
                       [&](SqliteBackfills& b) { return b.Create(backfill, filter, select); });
}

Result<Backfill> SqliteCatalog::GetBackfill(int64_t id, const AssetFilter& scope) {
  return WithBackfills(false, "reading backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.Get(id, scope); });
}

Result<std::vector<Backfill>> SqliteCatalog::ListBackfills(const AssetFilter& scope, int limit) {
  return WithBackfills(false, "listing backfills",
                       [&](SqliteBackfills& b) { return b.List(scope, limit); });
}

Result<Backfill> SqliteCatalog::SetBackfillState(int64_t id, const std::vector<BackfillState>& from,
                                                 BackfillState to, std::string_view reason) {
  return WithBackfills(true, "changing the state of backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.SetState(id, from, to, reason); });
}

Result<bool> SqliteCatalog::ClaimBackfillDriver(int64_t id, std::string_view driver,
                                                int64_t lease_micros) {
  return WithBackfills(true, "claiming backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.ClaimDriver(id, driver, lease_micros); });
}

Result<void> SqliteCatalog::ReleaseBackfillDriver(int64_t id, std::string_view driver) {
  return WithBackfills(true, "releasing backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.ReleaseDriver(id, driver); });
}

Result<std::vector<int64_t>> SqliteCatalog::ListUndrivenBackfills() {
  return WithBackfills(false, "listing backfills without a driver",
                       [&](SqliteBackfills& b) { return b.ListUndriven(); });
}

Result<DispatchResult> SqliteCatalog::DispatchBackfill(int64_t id, const DispatchRequest& request) {
  return WithBackfills(true, "dispatching backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.Dispatch(id, request); });
}

Result<int64_t> SqliteCatalog::WithdrawBackfillJobs(int64_t id, bool cancel) {
  return WithBackfills(true, "withdrawing the jobs of backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.Withdraw(id, cancel); });
}

Result<BackfillCounts> SqliteCatalog::CountBackfillItems(int64_t id) {
  return WithBackfills(false, "counting backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.Count(id); });
}

Result<std::vector<BackfillBacklog>> SqliteCatalog::CountUndispatchedBackfillItems(
    const std::vector<BackfillState>& states, const AssetFilter& scope) {
  return WithBackfills(false, "counting the undispatched items of backfills",
                       [&](SqliteBackfills& b) { return b.CountUndispatched(states, scope); });
}

Result<std::vector<BackfillItem>> SqliteCatalog::ListBackfillItems(
    int64_t id, std::optional<ItemOutcome> outcome, int64_t offset, int limit) {
  return WithBackfills(false, "listing the items of backfill " + std::to_string(id),
                       [&](SqliteBackfills& b) { return b.ListItems(id, outcome, offset, limit); });
}

Result<RollbackResult> SqliteCatalog::RollbackDerivatives(const RollbackRequest& request,
                                                          const AssetFilter& filter) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result = InTransaction(
      db, request.dry_run ? Transaction::Mode::kDeferred : Transaction::Mode::kImmediate,
      [&] { return Rollback(db, clock_.NowMicros(), request, filter); });
  if (!result) {
    return Fail(InContext(std::move(result.error()), "rolling back stage " + request.stage));
  }
  return result;
}

Result<StageHistory> SqliteCatalog::GetStageHistory(const StageHistoryQuery& query) {
  return WithBackfills(false, "reading the history of stage " + query.stage,
                       [&](SqliteBackfills& b) { return b.History(query); });
}

// ---- Events and outgoing webhooks: one transaction around one SqliteEvents call ---------

template <class Body>
auto SqliteCatalog::WithEvents(bool write, const std::string& what, Body&& body) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto result =
      InTransaction(db, write ? Transaction::Mode::kImmediate : Transaction::Mode::kDeferred, [&] {
        SqliteEvents events(db, clock_.NowMicros());
        return body(events);
      });
  if (!result) return decltype(result)(Fail(InContext(std::move(result.error()), what)));
  return result;
}

Result<std::vector<Event>> SqliteCatalog::ListEvents(const EventQuery& query) {
  return WithEvents(false, "listing events",
                    [&](SqliteEvents& events) { return events.List(query); });
}

Result<int64_t> SqliteCatalog::LatestEventId() {
  return WithEvents(false, "reading the newest event id",
                    [&](SqliteEvents& events) { return events.Latest(); });
}

Result<int64_t> SqliteCatalog::PruneEvents(int64_t before_micros) {
  return WithEvents(true, "pruning events",
                    [&](SqliteEvents& events) { return events.Prune(before_micros); });
}

int64_t SqliteCatalog::AddChangeListener(ChangeListener listener) {
  return listeners_.Add(std::move(listener));
}

void SqliteCatalog::RemoveChangeListener(int64_t id) { listeners_.Remove(id); }

Result<WebhookSubscription> SqliteCatalog::CreateWebhookSubscription(
    const NewWebhookSubscription& subscription) {
  return WithEvents(true, "creating a webhook subscription", [&](SqliteEvents& events) {
    return events.CreateSubscription(subscription, "api");
  });
}

Result<std::vector<WebhookSubscription>> SqliteCatalog::ListWebhookSubscriptions(
    const AssetFilter& scope) {
  return WithEvents(false, "listing webhook subscriptions",
                    [&](SqliteEvents& events) { return events.ListSubscriptions(scope); });
}

Result<WebhookSubscription> SqliteCatalog::GetWebhookSubscription(int64_t id,
                                                                  const AssetFilter& scope) {
  return WithEvents(false, "reading webhook subscription " + std::to_string(id),
                    [&](SqliteEvents& events) { return events.GetSubscription(id, scope); });
}

Result<void> SqliteCatalog::DeleteWebhookSubscription(int64_t id, const AssetFilter& scope) {
  return WithEvents(true, "deleting webhook subscription " + std::to_string(id),
                    [&](SqliteEvents& events) { return events.DeleteSubscription(id, scope); });
}

Result<void> SqliteCatalog::SyncConfigWebhookSubscriptions(
    const std::vector<NewWebhookSubscription>& subscriptions) {
  return WithEvents(
      true, "syncing the configured webhook subscriptions",
      [&](SqliteEvents& events) { return events.SyncConfigSubscriptions(subscriptions); });
}

Result<WebhookClaim> SqliteCatalog::ClaimWebhookDeliveries(int limit, int64_t lease_micros) {
  return WithEvents(true, "claiming webhook deliveries", [&](SqliteEvents& events) {
    return events.ClaimDeliveries(limit, lease_micros);
  });
}

Result<WebhookDelivery> SqliteCatalog::RecordWebhookAttempt(int64_t delivery_id,
                                                            const WebhookAttempt& attempt,
                                                            std::optional<int64_t> retry_at) {
  return WithEvents(
      true, "recording an attempt of webhook delivery " + std::to_string(delivery_id),
      [&](SqliteEvents& events) { return events.RecordAttempt(delivery_id, attempt, retry_at); });
}

Result<std::vector<WebhookDelivery>> SqliteCatalog::ListWebhookDeliveries(int64_t subscription_id,
                                                                          const AssetFilter& scope,
                                                                          int limit) {
  return WithEvents(
      false, "listing the deliveries of webhook subscription " + std::to_string(subscription_id),
      [&](SqliteEvents& events) { return events.ListDeliveries(subscription_id, scope, limit); });
}

}  // namespace reprise::catalog
