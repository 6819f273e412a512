#include "catalog/sqlite/sqlite_connection.h"

#include <chrono>
#include <filesystem>
#include <thread>
#include <type_traits>
#include <utility>

namespace reprise::catalog {
namespace {

constexpr int kBusyTimeoutMillis = 5000;
// The queue commits three small transactions per job, each rewriting the same few hot
// pages. Checkpointing per 10,000 WAL pages (~40 MB) instead of SQLite's 1,000 copies
// each hot page once per interval and syncs ten times less often.
constexpr int kCheckpointFrames = 10'000;

// Waiting for another connection's write lock. SQLite's own handler sleeps 1, 2, 5, 10,
// ... 100 ms between tries, which is long next to the queue's transactions (tens of
// microseconds): a claim would wait a millisecond for a lock freed after 30 us. This one
// sleeps 20, 40, ..., 1280 us, then 2 ms per try, and gives up (SQLITE_BUSY) once it has
// slept kBusyTimeoutMillis in all, as SQLite's would.
int BusyWait(void* /*unused*/, int tries) {
  constexpr int kDoublings = 7;  // 20 us << 6 = 1280 us
  constexpr int64_t kFirstMicros = 20;
  constexpr int64_t kLongestMicros = 2000;
  const int64_t slept = tries < kDoublings ? kFirstMicros * ((int64_t{1} << tries) - 1)
                                           : kFirstMicros * ((int64_t{1} << kDoublings) - 1) +
                                                 (tries - kDoublings) * kLongestMicros;
  if (slept >= int64_t{kBusyTimeoutMillis} * 1000) return 0;
  const int64_t next = tries < kDoublings ? kFirstMicros << tries : kLongestMicros;
  std::this_thread::sleep_for(std::chrono::microseconds(next));
  return 1;
}

}  // namespace

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, StmtPtr owned) noexcept
    : db_(db), stmt_(stmt), busy_(busy), owned_(std::move(owned)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      busy_(std::exchange(other.busy_, nullptr)),
      owned_(std::move(other.owned_)),
      next_index_(other.next_index_),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  // Reset so a cached statement releases its read snapshot and can be reused.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (busy_ != nullptr) *busy_ = false;
}

Statement& Statement::Check(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  ++next_index_;
  return *this;
}

Statement& Statement::BindText(std::string_view value) {
  // SQLITE_TRANSIENT: the caller's buffer may die before the statement runs.
  return Check(sqlite3_bind_text64(stmt_, next_index_, value.data(), value.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8));
}
Statement& Statement::BindInt64(int64_t value) {
  return Check(sqlite3_bind_int64(stmt_, next_index_, value));
}
Statement& Statement::BindDouble(double value) {
  return Check(sqlite3_bind_double(stmt_, next_index_, value));
}
Statement& Statement::BindNull() { return Check(sqlite3_bind_null(stmt_, next_index_)); }
Statement& Statement::BindOptionalText(const std::optional<std::string>& value) {
  return value ? BindText(*value) : BindNull();
}
Statement& Statement::BindOptionalInt64(std::optional<int64_t> value) {
  return value ? BindInt64(*value) : BindNull();
}
Statement& Statement::BindOptionalDouble(std::optional<double> value) {
  return value ? BindDouble(*value) : BindNull();
}
Statement& Statement::Bind(const SqlValue& value) {
  return std::visit(
      [this](const auto& v) -> Statement& {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return BindNull();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return BindInt64(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return BindDouble(v);
        } else {
          return BindText(v);
        }
      },
      value);
}
Statement& Statement::BindAll(const std::vector<SqlValue>& values) {
  for (const auto& value : values) Bind(value);
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return Fail(SqliteError(db_, bind_rc_, "binding a parameter"));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(db_, rc, ""));
}

Result<void> Statement::Run() {
  while (true) {
    auto row = Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return {};
  }
}

Result<void> Statement::ForEachRow(const std::function<Result<bool>(const Statement&)>& visit) {
  while (true) {
    auto row = Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return {};
    auto more = visit(*this);
    if (!more) return Fail(std::move(more.error()));
    if (!*more) return {};
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::Int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::Text(int column) const { return std::string(TextView(column)); }
std::string_view Statement::TextView(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  // column_bytes after column_text: the length of the UTF-8 form just produced.
  int size = sqlite3_column_bytes(stmt_, column);
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(size)};
}
std::optional<int64_t> Statement::OptionalInt64(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int64(column);
}
std::optional<double> Statement::OptionalDouble(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Double(column);
}
std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

SqliteConnection::SqliteConnection(std::string path, SqlitePtr db)
    : path_(std::move(path)), db_(std::move(db)), next_checkpoint_frames_(kCheckpointFrames) {}

// SQLite's own hook (wal_autocheckpoint) checkpoints after every commit that leaves the
// WAL at N frames or more. The WAL only starts over once a checkpoint has copied all of it
// while no other connection reads from it, which with several busy workers often takes a
// while, and in the meantime every commit paid for another checkpoint and its two
// fsyncs. This one checkpoints at N frames and then again only after N more, or once the
// WAL has started over.
int SqliteConnection::OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_frames) {
  auto* connection = static_cast<SqliteConnection*>(self);
  if (wal_frames < connection->last_wal_frames_) {  // started over since our last commit
    connection->next_checkpoint_frames_ = kCheckpointFrames;
  }
  connection->last_wal_frames_ = wal_frames;
  if (wal_frames < connection->next_checkpoint_frames_) return SQLITE_OK;
  connection->next_checkpoint_frames_ = wal_frames + kCheckpointFrames;
  // PASSIVE never waits for other connections; like SQLite's own hook, a checkpoint that
  // could not finish is simply tried again later, not an error of the commit.
  (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 bool create) {
  const std::string context = "cannot open catalog " + path;
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serialises access, so SQLite's own per-call mutex is redundant.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqlitePtr db(raw);
  if (rc != SQLITE_OK && !create && (rc & 0xff) == SQLITE_CANTOPEN) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return Fail(ErrorCode::kNotFound, "no catalog at " + path, "sqlite:" + std::to_string(rc));
    }
  }
  if (rc != SQLITE_OK) return Fail(SqliteError(db.get(), rc, context));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_handler(db.get(), BusyWait, nullptr);
  // SQLite silently falls back to read-only when the file is not writable; a catalog
  // that cannot record work must say so now, not at the first write.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return Fail(ErrorCode::kIo, context + ": the file is read-only", "sqlite:8");
  }

  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(path, std::move(db)));
  // Replaces SQLite's automatic checkpoints (so no PRAGMA wal_autocheckpoint after this).
  sqlite3_wal_hook(connection->get(), &SqliteConnection::OnWalCommit, connection.get());
  // The first statement reads the file: a directory, a non-database or an unwritable
  // location fails here. journal_size_limit gives the disk back when the WAL starts over
  // after an unusually large transaction.
  auto setup = connection->Exec(
      "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
      " PRAGMA journal_size_limit = 67108864;");
  if (!setup) return Fail(setup.error().Wrap(context));

  {
    auto mode = connection->Prepare("PRAGMA journal_mode = WAL");
    if (!mode) return Fail(mode.error().Wrap(context));
    auto row = mode->Step();
    if (!row) return Fail(row.error().Wrap(context));
    std::string journal = *row ? mode->Text(0) : "";
    // An in-memory database reports "memory"; anything else must really be WAL, since
    // concurrent processes rely on it.
    if (journal != "wal" && journal != "memory") {
      return Fail(ErrorCode::kIo,
                  context + ": cannot enable WAL (journal_mode is \"" + journal + "\")");
    }
  }
  {
    auto fk = connection->Prepare("PRAGMA foreign_keys");
    if (!fk) return Fail(fk.error().Wrap(context));
    auto row = fk->Step();
    if (!row) return Fail(row.error().Wrap(context));
    if (!*row || fk->Int64(0) != 1) {
      return Fail(ErrorCode::kInternal, context + ": this SQLite cannot enforce foreign keys");
    }
  }
  return connection;
}

Result<Statement> SqliteConnection::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end() && !it->second.busy) {
    it->second.busy = true;
    return Statement(db_.get(), it->second.stmt.get(), &it->second.busy, nullptr);
  }
  sqlite3_stmt* raw = nullptr;
  unsigned flags = it == statements_.end() ? SQLITE_PREPARE_PERSISTENT : 0;
  int rc =
      sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_.get(), rc, "preparing a statement"));
  if (it != statements_.end()) {          // the cached copy is in use: hand out a private one
    sqlite3_stmt* borrowed = stmt.get();  // before the move below empties `stmt`
    return Statement(db_.get(), borrowed, nullptr, std::move(stmt));
  }
  auto inserted = statements_.emplace(std::string(sql), CachedStatement{}).first;
  inserted->second.stmt = std::move(stmt);
  inserted->second.busy = true;
  return Statement(db_.get(), inserted->second.stmt.get(), &inserted->second.busy, nullptr);
}

Result<void> SqliteConnection::Exec(std::string_view sql) {
  // sqlite3_exec needs a NUL-terminated string; the copy is cheap next to running DDL.
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_.get(), rc, ""));
  return {};
}

Result<Transaction> Transaction::Begin(SqliteConnection& connection, Mode mode) {
  auto begin = connection.Prepare(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begin) return Fail(std::move(begin.error()));
  auto done = begin->Run();
  if (!done) return Fail(done.error().Wrap("beginning a transaction"));
  connection.pending_change_ = {};
  return Transaction(&connection);
}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction::~Transaction() {
  if (connection_ == nullptr) return;
  connection_->pending_change_ = {};
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled back automatically.
  if (sqlite3_get_autocommit(connection_->get()) != 0) return;
  auto rollback = connection_->Prepare("ROLLBACK");
  if (rollback) (void)rollback->Run();
}

Result<void> Transaction::Commit() {
  auto commit = connection_->Prepare("COMMIT");
  if (!commit) return Fail(std::move(commit.error()));
  auto done = commit->Run();
  if (!done) return Fail(done.error().Wrap("committing a transaction"));
  const Change change = std::exchange(connection_->pending_change_, {});
  if (change.topics != 0 && connection_->change_hook_) connection_->change_hook_(change);
  connection_ = nullptr;
  return {};
}

}  // namespace reprise::catalog
