// `reprise migrate status|up|down`: the catalog's schema version (app/migrations.h).
// `status` lists every migration this build knows and whether it is applied; `up` applies
// them up to --to (default: the newest); `down --to N` reverts every migration above N
// (--to is required: reverting drops tables and their data). Runs before the catalog is
// opened, since opening it applies every migration.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

#include "core/config.h"

namespace reprise::cli {

struct MigrateFlags {
  CLI::App* status_command = nullptr;
  CLI::App* up_command = nullptr;
  CLI::App* down_command = nullptr;
  std::optional<int> up_to;
  int down_to = 0;
  bool json = false;
};

// Adds `migrate` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddMigrateCommand(CLI::App& cli, MigrateFlags& flags);
// Runs the migrate subcommand that was parsed.
int RunMigrate(const Config& config, const MigrateFlags& flags);

}  // namespace reprise::cli
