// `reprise process [--stage S]... [--owner ID] [--retry-failed] [--concurrency N] [--json]`:
// runs the due stages on every asset in this process and waits (queue/process.h), with
// a progress bar on a terminal and a per-stage summary. Also the summary that
// `ingest --process` prints for the work it started.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/app.h"
#include "core/log.h"
#include "queue/process.h"
#include "queue/signals.h"

namespace reprise::cli {

struct ProcessFlags {
  std::vector<std::string> stages;
  std::optional<std::string> owner;
  int concurrency = 0;
  bool retry_failed = false;
  bool json = false;
};

// Adds the `process` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddProcessCommand(CLI::App& cli, ProcessFlags& flags);
int RunProcess(app::App& app, const ProcessFlags& flags, queue::ShutdownSignals& signals);

// The interrupt check a ProcessOptions needs: SIGINT/SIGTERM since the last call.
std::function<bool()> Interrupted(queue::ShutdownSignals& signals);

// Waits for a processor session with a progress bar (none with --json) and prints its
// summary as a table, or returns it for the caller's JSON. The exit code.
int WaitAndReport(queue::ProcessSession& session, const Logger& log, bool json,
                  nlohmann::json* json_out);

}  // namespace reprise::cli
