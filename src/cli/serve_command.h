// `reprise serve [--listen HOST:PORT] [--no-workers] [worker options]`: the HTTP server
// (http/server.h) and, unless turned off, a worker pool in the same process, until
// SIGTERM/SIGINT. Requests authenticate with the catalog's API tokens; without any, only
// a loopback address is served (every request an admin) and any other is refused.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "cli/worker_command.h"
#include "queue/signals.h"

namespace reprise::cli {

struct ServeFlags {
  std::optional<std::string> listen;
  bool no_workers = false;
  WorkerFlags worker;
};

// Adds the `serve` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddServeCommand(CLI::App& cli, ServeFlags& flags);
int RunServe(app::App& app, const ServeFlags& flags, queue::ShutdownSignals& signals);

}  // namespace reprise::cli
