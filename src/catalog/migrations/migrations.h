// The catalog's schema history as data: each backend has an ordered list of migrations
// with consecutive versions starting at 1. A migration's `up` SQL moves the schema from
// version-1 to version and its `down` SQL moves it back; both may hold several
// statements. Applied versions are recorded in `schema_migrations(version, name,
// applied_at)` by the backend's migrator, which also refuses a database whose recorded
// version is newer than the last one listed here (a newer reprise wrote it).
//
// A released migration is never edited; a change to the schema is a new entry. Each
// backend keeps its own list (the SQL dialects differ); the versions and names line up
// so `reprise migrate status` means the same on both.
#pragma once

#include <span>
#include <string_view>

namespace reprise::catalog {

struct Migration {
  int version = 0;
  std::string_view name;
  std::string_view up_sql;
  std::string_view down_sql;
};

// SQLite's migrations, ascending by version.
std::span<const Migration> SqliteMigrations();
// PostgreSQL's migrations, ascending by version (the same versions and names).
std::span<const Migration> PostgresMigrations();

}  // namespace reprise::catalog
