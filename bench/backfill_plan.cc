// Backfill planning over a large synthetic library on the SQLite or the PostgreSQL
// catalog: catalog rows only, no media. The catalog is made once (schema by the backend's
// Open, rows by prepared INSERTs in one transaction on SQLite, by batches of
// jsonb_to_recordset INSERTs on PostgreSQL), then every phase runs in a fresh process
// (fork + exec of this program) that opens it the way the application does (the catalog
// by its URL, FsBlobStore, the built-in stages, backfill::Service) and measures one call:
//
//   dry    Service::DryRun, what `reprise backfill ... --dry-run` runs;
//   start  Service::DryRun (not timed) then Service::Start, which freezes the plan
//          (backfill_plan) as `reprise backfill ... --yes` does. The backfill is deleted
//          again afterwards, outside the timing, so every run starts from the same rows.
//
// Peak RSS is the child's VmHWM: the whole process (libraries, catalog, service) after
// its one call; the filling never counts because it happened in another process.
//
// The library: video assets of 8 owners in turn, inserted in created_at order, with one
// derivative row per stage (probe, thumbnail) as a worker leaves them. Per 20 assets:
//   1 missing    no derivative rows at all (status pending);
//   1 failed     probe current, the latest thumbnail attempt of today's recipe failed;
//   2 outdated   probe current, the current thumbnail built by an older recipe;
//   16 current   both current with today's recipe; one asset in 160 also keeps the
//                older thumbnail its current one replaced (history).
// Durations spread over 1..240 s (a quarter are 60 s or shorter).
//
// Output: one `key=value ...` line per measured run, then a table of medians against the
// targets, for bench/backfill_plan.sh.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "backfill/plan.h"
#include "backfill/service.h"
#include "blob/fs/fs_blob_store.h"
#include "catalog/catalog.h"
#include "catalog/postgres/pg_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/log.h"
#include "stages/builtin.h"
#include "stages/registry.h"

namespace reprise::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr double kDryTargetSeconds = 5;
constexpr double kStartTargetSeconds = 20;
constexpr double kEveryStagePlanTargetSeconds = 30;          // issue 13: every stage, compact plans
constexpr double kRssTargetMiB = 150e6 / (1024.0 * 1024.0);  // 150 MB
constexpr int kOwners = 8;
constexpr const char* kOldThumbnailRecipe =
    "0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0";

struct Options {
  int64_t assets = 1'000'000;
  int runs = 3;
  std::string dir;       // empty: a fresh temporary directory, removed afterwards
  std::string catalog;   // a postgres:// URL; empty: DIR/catalog.db (SQLite)
  std::string phases;    // comma-separated phase names; empty: all
  std::string child;     // internal: run this one phase and print its figures
  std::string self_exe;  // this program, for the children
};

// One measured configuration. `target_seconds` 0: reported, no target.
struct Phase {
  std::string name;
  std::string label;
  std::vector<std::string> stages;  // empty: every registered stage
  catalog::BackfillMode mode;
  std::optional<std::string> where;
  bool start;
  double target_seconds;
};

std::vector<Phase> AllPhases() {
  using catalog::BackfillMode;
  const std::string where = "duration > 60";
  return {
      {"dry",
       "dry run, thumbnail, outdated",
       {"thumbnail"},
       BackfillMode::kOutdated,
       {},
       false,
       kDryTargetSeconds},
      {"dry-two-stages",
       "dry run, probe + thumbnail, outdated",
       {"probe", "thumbnail"},
       BackfillMode::kOutdated,
       {},
       false,
       kDryTargetSeconds},
      {"dry-all-stages",
       "dry run, every stage, outdated",
       {},
       BackfillMode::kOutdated,
       {},
       false,
       kDryTargetSeconds},
      {"dry-where",
       "dry run, thumbnail, --where",
       {"thumbnail"},
       BackfillMode::kOutdated,
       where,
       false,
       kDryTargetSeconds},
      {"start",
       "frozen plan, thumbnail, outdated",
       {"thumbnail"},
       BackfillMode::kOutdated,
       {},
       true,
       kStartTargetSeconds},
      {"start-two-stages",
       "frozen plan, probe + thumbnail, outdated",
       {"probe", "thumbnail"},
       BackfillMode::kOutdated,
       {},
       true,
       kStartTargetSeconds},
      {"start-all-stages",
       "frozen plan, every stage, outdated",
       {},
       BackfillMode::kOutdated,
       {},
       true,
       kEveryStagePlanTargetSeconds},
      {"start-where",
       "frozen plan, thumbnail, --where",
       {"thumbnail"},
       BackfillMode::kOutdated,
       where,
       true,
       kStartTargetSeconds},
      {"start-mode-all",
       "frozen plan, thumbnail, --all (rebuild)",
       {"thumbnail"},
       BackfillMode::kAll,
       {},
       true,
       0},
  };
}

[[noreturn]] void Die(const std::string& what, const Error& error) {
  fmt::print(stderr, "{}: {}\n", what, error.ToString());
  std::exit(1);
}

template <class T>
T OrDie(Result<T> result, const std::string& what) {
  if (!result) Die(what, result.error());
  return std::move(*result);
}

void OrDie(Result<void> result, const std::string& what) {
  if (!result) Die(what, result.error());
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// CPU time (user + system) of this process so far: on a shared machine, the part of the
// wall time that other load does not inflate.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A field of /proc/self/status in KiB (VmHWM: peak RSS, VmRSS: now).
int64_t StatusKiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

stages::Registry BuiltinRegistry() {
  stages::Registry registry;
  OrDie(stages::AddBuiltinStages(registry, nlohmann::json::object()), "stages");
  OrDie(registry.Seal(), "stages");
  return registry;
}

// ---- Making the library ----------------------------------------------------------------

struct Recipes {
  std::string probe;
  std::string thumbnail;
  int probe_version = 1;
  int thumbnail_version = 1;
};

// One asset's rows as the library has them; the sinks write them to a backend.
struct AssetRow {
  std::string id;
  std::string owner;
  std::string sha256;
  std::string cid;
  int64_t size_bytes = 0;
  std::string original_key;
  std::string original_name;
  std::string source_uri;
  std::string status;
  double duration = 0;
  int64_t created = 0;
};

struct DerivativeRow {
  std::string asset_id;
  std::string stage;
  int version = 0;
  std::string recipe;
  std::string state;
  bool current = false;
  std::string metadata;
  std::string blobs;
  int64_t finished = 0;
};

class LibrarySink {
 public:
  virtual ~LibrarySink() = default;
  virtual Result<void> Asset(const AssetRow& row) = 0;
  virtual Result<void> Derivative(const DerivativeRow& row) = 0;
};

class LibraryWriter {
 public:
  LibraryWriter(LibrarySink& sink, Recipes recipes) : sink_(sink), recipes_(std::move(recipes)) {}

  Result<void> Asset(int64_t i) {
    AssetRow asset;
    asset.owner = fmt::format("owner{}", i % kOwners);
    const Sha256Digest sha = Sha256Of(fmt::format("reprise bench asset {}", i));
    asset.id = AssetIdFor(asset.owner, sha);
    asset.created = kEpoch + i * 1'000'003;  // about one asset a second
    asset.duration = 1 + static_cast<double>((i * 7919) % 240) + 0.25;
    const int64_t kind_of_20 = i % 20;
    asset.status = kind_of_20 == 0 ? "pending" : kind_of_20 == 1 ? "failed" : "ready";
    asset.sha256 = HexLower(sha);
    asset.cid = CidV1Raw(sha);
    asset.size_bytes = 1'000'000 + (i * 104'729) % 400'000'000;
    asset.original_key = "originals/" + asset.sha256;
    asset.original_name = fmt::format("clip-{:07d}.mp4", i);
    asset.source_uri = fmt::format("file:///library/{}/clip-{:07d}.mp4", asset.owner, i);
    REPRISE_TRY(sink_.Asset(asset));
    if (kind_of_20 == 0) return {};  // missing: never processed

    const std::string& id = asset.id;
    const int64_t done = asset.created + 2'000'000;
    REPRISE_TRY(sink_.Derivative({id, "probe", recipes_.probe_version, recipes_.probe, "done", true,
                                  ProbeMetadata(asset.duration), "[]", done}));
    if (kind_of_20 == 1) {  // the latest thumbnail attempt of today's recipe failed
      return sink_.Derivative({id, "thumbnail", recipes_.thumbnail_version, recipes_.thumbnail,
                               "failed", false, "{}", "[]", done + 1});
    }
    const std::string blobs = fmt::format(
        R"([{{"key":"assets/{}/thumbnail/thumbnail.jpg","content_type":"image/jpeg","bytes":{}}}])",
        id, 18'000 + i % 9'000);
    if (kind_of_20 == 2 || kind_of_20 == 3) {  // outdated: an older recipe's result is current
      return sink_.Derivative({id, "thumbnail", recipes_.thumbnail_version - 1, kOldThumbnailRecipe,
                               "done", true, R"({"width":320,"height":180})", blobs, done + 1});
    }
    if (i % 160 == 4) {  // history: the older result this one replaced
      REPRISE_TRY(
          sink_.Derivative({id, "thumbnail", recipes_.thumbnail_version - 1, kOldThumbnailRecipe,
                            "done", false, R"({"width":320,"height":180})", blobs, done + 1}));
    }
    return sink_.Derivative({id, "thumbnail", recipes_.thumbnail_version, recipes_.thumbnail,
                             "done", true, R"({"width":320,"height":180})", blobs, done + 2});
  }

 private:
  static constexpr int64_t kEpoch = 1'735'689'600'000'000;  // 2025-01-01, microseconds

  static std::string ProbeMetadata(double duration) {
    return fmt::format(
        R"({{"container":"mov,mp4,m4a,3gp,3g2,mj2","duration_seconds":{:.2f},"bit_rate":2400000,)"
        R"("streams":[{{"type":"video","codec":"h264","profile":"High","width":1280,"height":720,)"
        R"("frame_rate":30.0,"pixel_format":"yuv420p"}},{{"type":"audio","codec":"aac",)"
        R"("sample_rate":48000,"channels":2,"channel_layout":"stereo"}}]}})",
        duration);
  }

  LibrarySink& sink_;
  Recipes recipes_;
};

constexpr std::string_view kAssetInsert =
    "INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,"
    " original_name, source_uri, status, kind, container, duration_seconds, width, height,"
    " refs, created_at, updated_at)";
constexpr std::string_view kDerivativeInsert =
    "INSERT INTO derivatives (asset_id, stage, stage_version, recipe, params, state,"
    " error_code, error_message, attempts, metadata, blobs, bytes, is_current, created_at,"
    " started_at, finished_at)";

// The error columns and byte count of a derivative row.
struct DerivativeExtras {
  std::string error_code;
  std::string error_message;
  int64_t bytes = 0;
};
DerivativeExtras ExtrasOf(const DerivativeRow& row) {
  const bool failed = row.state == "failed";
  return {failed ? "unsupported_media" : "", failed ? "no decodable video frame" : "",
          row.blobs == "[]" ? 0 : 20'000};
}

class SqliteSink final : public LibrarySink {
 public:
  explicit SqliteSink(catalog::SqliteConnection& db) : db_(db) {}

  Result<void> Asset(const AssetRow& row) override {
    auto insert = db_.Prepare(std::string(kAssetInsert) +
                              " VALUES (?, ?, 'scan', ?, ?, ?, ?, ?, ?, ?, 'video',"
                              " 'mov,mp4,m4a,3gp,3g2,mj2', ?, 1280, 720, '{}', ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindText(row.id)
        .BindText(row.owner)
        .BindText(row.sha256)
        .BindText(row.cid)
        .BindInt64(row.size_bytes)
        .BindText(row.original_key)
        .BindText(row.original_name)
        .BindText(row.source_uri)
        .BindText(row.status)
        .BindDouble(row.duration)
        .BindInt64(row.created)
        .BindInt64(row.created);
    return insert->Run();
  }

  Result<void> Derivative(const DerivativeRow& row) override {
    auto insert = db_.Prepare(std::string(kDerivativeInsert) +
                              " VALUES (?, ?, ?, ?, '{}', ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    const DerivativeExtras extras = ExtrasOf(row);
    insert->BindText(row.asset_id)
        .BindText(row.stage)
        .BindInt64(row.version)
        .BindText(row.recipe)
        .BindText(row.state)
        .BindText(extras.error_code)
        .BindText(extras.error_message)
        .BindText(row.metadata)
        .BindText(row.blobs)
        .BindInt64(extras.bytes)
        .BindInt64(row.current ? 1 : 0)
        .BindInt64(row.finished - 500'000)
        .BindInt64(row.finished - 400'000)
        .BindInt64(row.finished);
    return insert->Run();
  }

 private:
  catalog::SqliteConnection& db_;
};

// Rows go to PostgreSQL in batches: each batch one INSERT ... SELECT over
// jsonb_to_recordset, assets before their derivatives (the foreign key).
class PgSink final : public LibrarySink {
 public:
  explicit PgSink(pqxx::work& tx) : tx_(tx) {}

  Result<void> Asset(const AssetRow& row) override {
    assets_.push_back({{"id", row.id},
                       {"owner", row.owner},
                       {"sha256", row.sha256},
                       {"cid", row.cid},
                       {"size_bytes", row.size_bytes},
                       {"original_key", row.original_key},
                       {"original_name", row.original_name},
                       {"source_uri", row.source_uri},
                       {"status", row.status},
                       {"duration", row.duration},
                       {"created", row.created}});
    if (assets_.size() >= kBatch) Flush();
    return {};
  }

  Result<void> Derivative(const DerivativeRow& row) override {
    const DerivativeExtras extras = ExtrasOf(row);
    derivatives_.push_back({{"asset_id", row.asset_id},
                            {"stage", row.stage},
                            {"version", row.version},
                            {"recipe", row.recipe},
                            {"state", row.state},
                            {"error_code", extras.error_code},
                            {"error_message", extras.error_message},
                            {"metadata", row.metadata},
                            {"blobs", row.blobs},
                            {"bytes", extras.bytes},
                            {"current", row.current ? 1 : 0},
                            {"finished", row.finished}});
    return {};
  }

  void Flush() {
    if (!assets_.empty()) {
      tx_.exec_params(std::string(kAssetInsert) +
                          " SELECT id, owner, 'scan', sha256, cid, size_bytes, original_key,"
                          " original_name, source_uri, status, 'video', 'mov,mp4,m4a,3gp,3g2,mj2',"
                          " duration, 1280, 720, '{}', created, created FROM jsonb_to_recordset($1)"
                          " AS x(id text, owner text, sha256 text, cid text, size_bytes bigint,"
                          " original_key text, original_name text, source_uri text, status text,"
                          " duration double precision, created bigint)",
                      assets_.dump());
    }
    if (!derivatives_.empty()) {
      tx_.exec_params(std::string(kDerivativeInsert) +
                          " SELECT asset_id, stage, version, recipe, '{}', state, error_code,"
                          " error_message, 1, metadata, blobs, bytes, current, finished - 500000,"
                          " finished - 400000, finished FROM jsonb_to_recordset($1)"
                          " AS x(asset_id text, stage text, version integer, recipe text,"
                          " state text, error_code text, error_message text, metadata text,"
                          " blobs text, bytes bigint, current integer, finished bigint)",
                      derivatives_.dump());
    }
    assets_ = nlohmann::json::array();
    derivatives_ = nlohmann::json::array();
  }

 private:
  static constexpr size_t kBatch = 5000;
  pqxx::work& tx_;
  nlohmann::json assets_ = nlohmann::json::array();
  nlohmann::json derivatives_ = nlohmann::json::array();
};

bool IsPostgres(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

Recipes TodaysRecipes() {
  auto registry = BuiltinRegistry();
  return {registry.Recipe("probe"), registry.Recipe("thumbnail"), registry.Find("probe")->Version(),
          registry.Find("thumbnail")->Version()};
}

// Refuses a catalog that holds some assets but not `assets` of them.
bool Reusable(const std::string& where, int64_t existing, int64_t assets) {
  if (existing == assets) {
    fmt::print(stderr, "reusing {} ({} assets)\n", where, existing);
    return true;
  }
  if (existing != 0) {
    fmt::print(stderr, "{} holds {} assets, not {}: use another catalog\n", where, existing,
               assets);
    std::exit(2);
  }
  return false;
}

Result<int64_t> CountAssets(catalog::SqliteConnection& db) {
  auto count = db.Prepare("SELECT COUNT(*) FROM assets");
  if (!count) return Fail(std::move(count.error()));
  auto row = count->Step();
  if (!row) return Fail(std::move(row.error()));
  return count->Int64(0);
}

// Makes the SQLite catalog, or checks that the one in `path` already holds `assets` assets.
void MakeSqliteLibrary(const std::string& path, int64_t assets) {
  {
    SystemClock clock;
    OrDie(catalog::SqliteCatalog::Open(path, clock), "cannot open catalog " + path);
  }
  auto db = OrDie(catalog::SqliteConnection::Open(path), "cannot open " + path);
  if (Reusable(path, OrDie(CountAssets(*db), "counting assets"), assets)) return;
  // For the filling only: a big page cache and no syncs. The measured processes open the
  // file afresh with the catalog's own settings.
  OrDie(db->Exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -524288;"), "pragmas");
  auto start = SteadyClock::now();
  {
    auto transaction =
        OrDie(catalog::Transaction::Begin(*db, catalog::Transaction::Mode::kImmediate), "begin");
    SqliteSink sink(*db);
    LibraryWriter writer(sink, TodaysRecipes());
    for (int64_t i = 0; i < assets; ++i) OrDie(writer.Asset(i), "inserting asset");
    OrDie(transaction.Commit(), "commit");
  }
  OrDie(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"), "checkpoint");
  fmt::print(stderr, "filled {} assets in {:.1f} s ({:.0f} MB)\n", assets, SecondsSince(start),
             static_cast<double>(std::filesystem::file_size(path)) / 1e6);
}

// The same on PostgreSQL at `url` (schema by PostgresCatalog::Open), then ANALYZE.
void MakePgLibrary(const std::string& url, int64_t assets) {
  {
    SystemClock clock;
    OrDie(catalog::PostgresCatalog::Open(url, clock), "cannot open catalog " + url);
  }
  pqxx::connection connection(url);
  {
    pqxx::work tx(connection);
    if (Reusable(url, tx.exec1("SELECT COUNT(*) FROM assets")[0].as<int64_t>(), assets)) return;
  }
  auto start = SteadyClock::now();
  {
    pqxx::work tx(connection);
    PgSink sink(tx);
    LibraryWriter writer(sink, TodaysRecipes());
    for (int64_t i = 0; i < assets; ++i) OrDie(writer.Asset(i), "inserting asset");
    sink.Flush();
    tx.commit();
  }
  pqxx::nontransaction after(connection);
  after.exec0("VACUUM ANALYZE");  // as autovacuum leaves a loaded table: index-only scans
  fmt::print(stderr, "filled {} assets in {:.1f} s ({:.0f} MB)\n", assets, SecondsSince(start),
             after.exec1("SELECT pg_database_size(current_database())")[0].as<double>() / 1e6);
}

// ---- One phase, in a child process -----------------------------------------------------

// Deletes the backfill with its plan, so every run starts from the same rows.
void RemoveBackfill(const Options& options, int64_t id) {
  if (IsPostgres(options.catalog)) {
    pqxx::connection connection(options.catalog);
    pqxx::work tx(connection);
    tx.exec_params0("DELETE FROM backfill_plan WHERE backfill_id = $1", id);
    tx.exec_params0("DELETE FROM backfills WHERE id = $1", id);
    tx.commit();
    pqxx::nontransaction(connection).exec0("VACUUM ANALYZE backfill_plan");
    return;
  }
  const std::string path = options.catalog;
  auto db = OrDie(catalog::SqliteConnection::Open(path), "cannot open " + path);
  auto transaction =
      OrDie(catalog::Transaction::Begin(*db, catalog::Transaction::Mode::kImmediate), "begin");
  for (const char* sql :
       {"DELETE FROM backfill_plan WHERE backfill_id = ?", "DELETE FROM backfills WHERE id = ?"}) {
    auto remove = OrDie(db->Prepare(sql), "prepare");
    remove.BindInt64(id);
    OrDie(remove.Run(), "removing the backfill");
  }
  OrDie(transaction.Commit(), "commit");
  OrDie(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"), "checkpoint");
}

std::unique_ptr<catalog::Catalog> OpenCatalog(const std::string& where, const Clock& clock) {
  if (IsPostgres(where)) {
    return OrDie(catalog::PostgresCatalog::Open(where, clock), "cannot open catalog");
  }
  return OrDie(catalog::SqliteCatalog::Open(where, clock), "cannot open catalog");
}

int RunChild(const Options& options) {
  auto phases = AllPhases();
  auto phase = std::find_if(phases.begin(), phases.end(),
                            [&](const Phase& p) { return p.name == options.child; });
  if (phase == phases.end()) {
    fmt::print(stderr, "unknown phase {}\n", options.child);
    return 2;
  }
  const std::filesystem::path dir = options.dir;
  int64_t backfill_id = 0;
  {
    SystemClock clock;
    auto catalog = OpenCatalog(options.catalog, clock);
    auto blobs = OrDie(blob::FsBlobStore::Open((dir / "blobs").string()), "blob store");
    auto registry = BuiltinRegistry();
    backfill::Service service(*catalog, *blobs, registry, clock, MakeNullLogger(), {}, 2);
    backfill::Request request;
    request.stages = phase->stages;
    request.mode = phase->mode;
    request.selection.where = phase->where;
    const int64_t ready_kib = StatusKiB("VmRSS");

    auto start = SteadyClock::now();
    double cpu = CpuSeconds();
    auto plan = OrDie(service.DryRun(request, "", 10), "dry run");
    const double dry_seconds = SecondsSince(start);
    const double dry_cpu = CpuSeconds() - cpu;
    double start_seconds = 0;
    double start_cpu = 0;
    if (phase->start) {
      start = SteadyClock::now();
      cpu = CpuSeconds();
      auto backfill = OrDie(service.Start(request, "", plan), "start");
      start_seconds = SecondsSince(start);
      start_cpu = CpuSeconds() - cpu;
      backfill_id = backfill.id;
    }
    fmt::print(
        "phase={} assets_seen={} assets_selected={} items={} dry_s={:.3f} dry_cpu_s={:.3f}"
        " start_s={:.3f} start_cpu_s={:.3f} ready_kib={} peak_kib={}\n",
        phase->name, plan.assets_seen, plan.assets_selected, plan.items, dry_seconds, dry_cpu,
        start_seconds, start_cpu, ready_kib, StatusKiB("VmHWM"));
  }
  std::fflush(stdout);
  if (backfill_id != 0) RemoveBackfill(options, backfill_id);
  return 0;
}

// ---- The parent: runs the phases and tabulates ------------------------------------------

struct Figures {
  int64_t assets_seen = 0;
  int64_t assets_selected = 0;
  int64_t items = 0;
  double dry_s = 0;
  double dry_cpu_s = 0;
  double start_s = 0;
  double start_cpu_s = 0;
  double peak_mib = 0;
};

// Runs `self --child NAME --dir DIR` and parses the line it prints.
Figures RunPhase(const Options& options, const Phase& phase) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<std::string> args = {options.self_exe, "--child",   phase.name,     "--dir",
                                     options.dir,      "--catalog", options.catalog};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(options.self_exe.c_str(), argv.data());
    std::perror("execv");
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) {
    output.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "phase {} failed\n", phase.name);
    std::exit(1);
  }
  fmt::print("{}", output);
  std::fflush(stdout);
  std::map<std::string, std::string> fields;
  std::istringstream words(output);
  for (std::string word; words >> word;) {
    auto equals = word.find('=');
    if (equals != std::string::npos) fields[word.substr(0, equals)] = word.substr(equals + 1);
  }
  auto number = [&](const char* key) { return std::stod(fields.at(key)); };
  Figures figures;
  figures.assets_seen = static_cast<int64_t>(number("assets_seen"));
  figures.assets_selected = static_cast<int64_t>(number("assets_selected"));
  figures.items = static_cast<int64_t>(number("items"));
  figures.dry_s = number("dry_s");
  figures.dry_cpu_s = number("dry_cpu_s");
  figures.start_s = number("start_s");
  figures.start_cpu_s = number("start_cpu_s");
  figures.peak_mib = number("peak_kib") / 1024;
  return figures;
}

double Median(std::vector<Figures>& runs, double Figures::*field) {
  std::vector<double> values;
  for (const auto& run : runs) values.push_back(run.*field);
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

void PrintTable(const std::vector<Phase>& phases, std::map<std::string, std::vector<Figures>>& runs,
                int64_t assets, int count) {
  fmt::print("\n{:<42} {:>9} {:>9} {:>8} {:>8} {:>8} {:>16}  {}\n", "phase", "assets", "items",
             "wall s", "CPU s", "RSS MiB", "target", "result");
  for (const auto& phase : phases) {
    auto& figures = runs[phase.name];
    double seconds = Median(figures, phase.start ? &Figures::start_s : &Figures::dry_s);
    double cpu = Median(figures, phase.start ? &Figures::start_cpu_s : &Figures::dry_cpu_s);
    double peak = Median(figures, &Figures::peak_mib);
    std::string target = "-";
    std::string result = "-";
    if (phase.target_seconds > 0) {
      bool pass = seconds <= phase.target_seconds;
      target = fmt::format("<= {:.0f} s", phase.target_seconds);
      if (!phase.start) {
        pass = pass && peak <= kRssTargetMiB;
        target += ", 150 MB";
      }
      result = pass ? "PASS" : "MISS";
    }
    fmt::print("{:<42} {:>9} {:>9} {:>8.2f} {:>8.2f} {:>8.1f} {:>16}  {}\n", phase.label,
               figures.front().assets_selected, figures.front().items, seconds, cpu, peak, target,
               result);
  }
  fmt::print(
      "({} assets; median of {} runs, each in a fresh process; frozen-plan rows time Start()"
      " alone, after a dry run as the CLI does; RSS is the process peak, 150 MB = {:.1f} MiB;"
      " the targets apply to wall time)\n",
      assets, count, kRssTargetMiB);
}

int Run(Options options) {
  std::filesystem::path dir = options.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "reprise-backfill-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  std::filesystem::create_directories(dir);
  options.dir = std::filesystem::absolute(dir).string();
  if (options.catalog.empty()) options.catalog = (dir / "catalog.db").string();
  if (IsPostgres(options.catalog)) {
    MakePgLibrary(options.catalog, options.assets);
  } else {
    MakeSqliteLibrary(options.catalog, options.assets);
  }

  std::vector<Phase> phases;
  for (auto& phase : AllPhases()) {
    if (options.phases.empty() ||
        ("," + options.phases + ",").find("," + phase.name + ",") != std::string::npos) {
      phases.push_back(phase);
    }
  }
  std::map<std::string, std::vector<Figures>> runs;
  for (int run = 0; run < options.runs; ++run) {
    for (const auto& phase : phases) runs[phase.name].push_back(RunPhase(options, phase));
  }
  PrintTable(phases, runs, options.assets, options.runs);
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace reprise::bench

int main(int argc, char** argv) {
  reprise::bench::Options options;
  CLI::App app{
      "Backfill planning (dry run, frozen plan) over synthetic assets on SQLite or PostgreSQL."};
  app.add_option("--assets", options.assets, "assets in the library")->check(CLI::PositiveNumber);
  app.add_option("--runs", options.runs, "runs of every phase")->check(CLI::PositiveNumber);
  app.add_option("--dir", options.dir,
                 "directory for catalog.db, kept and reused when it holds --assets assets"
                 " (default: a temporary one)");
  app.add_option(
      "--phases", options.phases,
      "comma-separated: "
      "dry,dry-two-stages,dry-all-stages,dry-where,start,start-two-stages,start-all-stages,"
      "start-where,start-mode-all (default: all)");
  app.add_option("--catalog", options.catalog,
                 "a postgres:// URL, or a SQLite file (default: DIR/catalog.db); filled when it"
                 " holds no assets, reused when it holds --assets assets");
  app.add_option("--child", options.child, "internal: run one phase")->group("");
  CLI11_PARSE(app, argc, argv);
  std::error_code ec;
  options.self_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (!options.child.empty()) return reprise::bench::RunChild(options);
  return reprise::bench::Run(options);
}
