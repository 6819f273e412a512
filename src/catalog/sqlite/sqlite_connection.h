// One SQLite connection configured the way the catalog needs it, with a cache of prepared
// statements and scoped transactions. Internal to the SQLite backend.
//
// Open() sets, per connection: extended result codes, a busy timeout (5 s: a writer waits
// for another process's transaction instead of failing at once, polling from 20 us up
// rather than SQLite's 1 ms first sleep), foreign_keys=ON,
// journal_mode=WAL (readers never block the writer, several processes share the file),
// synchronous=NORMAL (durable at checkpoints, safe against corruption in WAL mode) and a
// passive checkpoint per 10,000 WAL pages written rather than SQLite's 1,000 (the
// queue's many small commits; see OnWalCommit).
// A path that cannot be opened read-write is refused with kIo.
//
// Not thread-safe: the owner serialises every use (SqliteCatalog holds a mutex).
// A Statement borrowed from the cache is reset when it goes out of scope; asking for
// the same SQL while it is still borrowed yields a private, uncached copy instead of
// resetting the one in use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "catalog/change_types.h"
#include "catalog/sqlite/sqlite_handles.h"
#include "core/error.h"

namespace reprise::catalog {

// A value bound to a `?` placeholder of a query assembled at run time.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, StmtPtr owned) noexcept;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binders fill placeholders left to right; a binding error is reported by Step().
  Statement& BindText(std::string_view value);
  Statement& BindInt64(int64_t value);
  Statement& BindDouble(double value);
  Statement& BindNull();
  Statement& BindOptionalText(const std::optional<std::string>& value);
  Statement& BindOptionalInt64(std::optional<int64_t> value);
  Statement& BindOptionalDouble(std::optional<double> value);
  Statement& Bind(const SqlValue& value);
  Statement& BindAll(const std::vector<SqlValue>& values);

  // True when a row is available, false when the statement has finished.
  [[nodiscard]] Result<bool> Step();
  // Steps to the end, for statements that return no rows.
  [[nodiscard]] Result<void> Run();
  // Steps through the rows, calling `visit` on each until it returns false or an error
  // (which is returned).
  [[nodiscard]] Result<void> ForEachRow(const std::function<Result<bool>(const Statement&)>& visit);

  [[nodiscard]] bool IsNull(int column) const;
  [[nodiscard]] int64_t Int64(int column) const;
  [[nodiscard]] double Double(int column) const;
  [[nodiscard]] std::string Text(int column) const;
  // The text of `column` without a copy, valid until the next Step() or Reset().
  [[nodiscard]] std::string_view TextView(int column) const;
  [[nodiscard]] std::optional<int64_t> OptionalInt64(int column) const;
  [[nodiscard]] std::optional<double> OptionalDouble(int column) const;
  [[nodiscard]] std::optional<std::string> OptionalText(int column) const;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  Statement& Check(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* busy_;     // the cache entry's in-use flag; null for a private statement
  StmtPtr owned_;  // set for a private statement
  int next_index_ = 1;
  int bind_rc_ = SQLITE_OK;
};

class SqliteConnection {
 public:
  // `create`: a missing file is created; otherwise it is kNotFound.
  [[nodiscard]] static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                                      bool create = true);

  sqlite3* get() const { return db_.get(); }
  const std::string& path() const { return path_; }

  // A prepared statement for `sql`, cached for the life of the connection.
  [[nodiscard]] Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without caching them (DDL, pragmas).
  [[nodiscard]] Result<void> Exec(std::string_view sql);

  // Change notifications (catalog.h): the open transaction notes what it queued and the
  // events it wrote (sqlite_events.h); a commit then calls the hook with them, a rollback
  // forgets them.
  void SetChangeHook(std::function<void(const Change&)> hook) { change_hook_ = std::move(hook); }
  void NoteChange(ChangeTopic topic) { pending_change_.Add(topic); }
  void NoteEventWritten(int64_t id) {
    pending_change_.Add(ChangeTopic::kEvents);
    pending_change_.newest_event_id = id;
  }

 private:
  struct CachedStatement {
    StmtPtr stmt;
    bool busy = false;
  };

  SqliteConnection(std::string path, SqlitePtr db);

  // sqlite3_wal_hook callback: checkpoints, see the .cc.
  static int OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_frames);

  std::string path_;
  SqlitePtr db_;
  int next_checkpoint_frames_;  // the WAL size at which this connection checkpoints next
  int last_wal_frames_ = 0;     // the WAL size after this connection's last commit
  // Node-based, so the busy flags handed to Statements stay put while the map grows.
  std::unordered_map<std::string, CachedStatement> statements_;
  std::function<void(const Change&)> change_hook_;
  Change pending_change_;  // of the open transaction

  friend class Transaction;
};

// A transaction that rolls back unless committed. IMMEDIATE takes the write lock at
// BEGIN, waiting up to the busy timeout for it, so a writer never fails later on a lock
// upgrade; DEFERRED gives a consistent snapshot for multi-statement reads.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  [[nodiscard]] static Result<Transaction> Begin(SqliteConnection& connection, Mode mode);
  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  [[nodiscard]] Result<void> Commit();

 private:
  explicit Transaction(SqliteConnection* connection) : connection_(connection) {}
  SqliteConnection* connection_;  // null once committed, rolled back or moved from
};

// Runs `body` in one transaction: committed when it succeeds, rolled back when it fails.
template <class Body>
std::invoke_result_t<Body> InTransaction(SqliteConnection& db, Transaction::Mode mode,
                                         Body&& body) {
  auto txn = Transaction::Begin(db, mode);
  if (!txn) return Fail(std::move(txn.error()));
  auto result = body();
  if (!result) return result;
  REPRISE_TRY(txn->Commit());
  return result;
}

}  // namespace reprise::catalog
