// `reprise worker [--concurrency N] [--stages S,...] [--lease SECONDS] [--grace SECONDS]`:
// runs queued jobs (queue/worker.h), and the backfills nobody drives, until SIGTERM or
// SIGINT. The same options size the worker pool of `reprise serve`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "queue/signals.h"
#include "queue/worker.h"

namespace reprise::cli {

struct WorkerFlags {
  int concurrency = 0;
  std::vector<std::string> stages;
  std::optional<double> lease_seconds;
  std::optional<double> grace_seconds;
};

// Adds --concurrency, --stages, --lease and --grace to `command`.
void AddWorkerOptions(CLI::App& command, WorkerFlags& flags);
// The app's worker defaults (config), overridden by what the flags set.
queue::WorkerOptions WorkerOptionsFrom(app::App& app, const WorkerFlags& flags);

// Adds the `worker` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddWorkerCommand(CLI::App& cli, WorkerFlags& flags);
int RunWorker(app::App& app, const WorkerFlags& flags, queue::ShutdownSignals& signals);

}  // namespace reprise::cli
