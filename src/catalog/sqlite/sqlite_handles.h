// Owning handles for the SQLite C API and the conversion of its result codes to Error.
//
// This is the only file that calls sqlite3_close_v2() or sqlite3_finalize(): every
// connection and statement is held by SqlitePtr / StmtPtr from the moment SQLite hands
// it out (sqlite3_open_v2 returns a handle that must be closed even when opening fails).
//
// SqliteError() maps a result code to the project's error codes: SQLITE_BUSY/LOCKED
// become kUnavailable (another connection holds the lock past the busy timeout; retrying
// later is right), SQLITE_CONSTRAINT becomes kConflict, problems with the file itself
// (cannot open, read-only, disk full, I/O, corruption) become kIo, anything else
// kInternal. The origin is "sqlite:<extended rc>" and the message carries
// sqlite3_errmsg() of the connection when there is one.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "core/error.h"

namespace reprise::catalog {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct SqliteStmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, SqliteStmtFinalizer>;

inline ErrorCode SqliteErrorCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kConflict;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
      return ErrorCode::kIo;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kInternal;
  }
}

// `db` may be null (no connection yet); then the generic text of `rc` is used. An empty
// `context` leaves the message as SQLite's text alone, for callers that Wrap() it.
inline Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // "unable to open database file" alone does not say whether the directory is missing
  // or not writable; the OS error does.
  if (db != nullptr && SqliteErrorCode(rc) == ErrorCode::kIo && sqlite3_system_errno(db) != 0) {
    detail += std::string(" (") + std::strerror(sqlite3_system_errno(db)) + ")";
  }
  std::string message = context.empty() ? detail : std::string(context) + ": " + detail;
  return Error{SqliteErrorCode(rc), std::move(message), "sqlite:" + std::to_string(rc)};
}

}  // namespace reprise::catalog
