// `reprise backfill ...`: plan, start, watch and steer backfills (backfill/service.h).
//
//   backfill STAGE...|--all-stages [mode] [filters] [options]   plan, confirm, run
//   backfill list | status ID | pause ID | resume ID | cancel ID | diff ID
//   rollback STAGE [filters] [--to-recipe R]                      earlier results back
#pragma once

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "queue/signals.h"

namespace reprise::cli {

struct BackfillCommands;

// Registers the commands on `cli`; the returned object holds their flags (shared: its
// type is private to this file).
std::shared_ptr<BackfillCommands> AddBackfillCommands(CLI::App& cli);
// True when the chosen command runs work in this process (and so watches signals).
bool RunsWork(const BackfillCommands& commands);
// True when the chosen command starts a backfill (not a dry run), the one backfill
// command that may create a missing catalog.
bool StartsBackfill(const BackfillCommands& commands);
// The exit code of the chosen backfill command, or nullopt when none was chosen.
// `signals` must be set when RunsWork().
std::optional<int> RunBackfillCommands(app::App& app, BackfillCommands& commands,
                                       queue::ShutdownSignals* signals);

}  // namespace reprise::cli
