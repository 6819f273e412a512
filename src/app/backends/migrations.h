// `reprise migrate`: the catalog's schema version, read and moved without opening the
// catalog (which would apply every migration first). The catalog URL picks the backend
// ("sqlite:PATH", "postgres://..." or "postgresql://..."); the migrations themselves are
// catalog/migrations, the same versions and names on both.
//
// Errors: kInvalidArgument for an unknown scheme or a version that does not exist;
// kNotFound for a SQLite file that does not exist (status and down never create one);
// kConflict for a schema newer than this build (see the migrators); kUnavailable when
// PostgreSQL cannot be reached.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"

namespace reprise::app {

struct MigrationState {
  int version = 0;
  std::string name;
  std::optional<int64_t> applied_at;  // UTC micros; nullopt when not applied
};

struct MigrationStatus {
  std::string catalog;                     // the URL, without a password
  int current = 0;                         // the highest applied version
  int latest = 0;                          // the newest this build knows
  std::vector<MigrationState> migrations;  // every known one, ascending
};

[[nodiscard]] Result<MigrationStatus> ReadMigrationStatus(const Config& config);

// Moves the schema to `target` (0..latest; nullopt: the latest) and returns the status
// after. Moving up creates a missing SQLite file (as any writing command does); moving
// to 0 does not.
[[nodiscard]] Result<MigrationStatus> MigrateCatalog(const Config& config,
                                                     std::optional<int> target, const Clock& clock);

}  // namespace reprise::app
