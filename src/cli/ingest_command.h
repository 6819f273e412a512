// `reprise ingest PATH... [--owner ID] [--process] [--json]`: adds media files and folders
// (ingest/ingestor.h) and, with --process, builds the due derivatives of what it brought
// while the next files are still being copied, then waits as `process` does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "queue/signals.h"

namespace reprise::cli {

struct IngestFlags {
  std::vector<std::string> paths;
  std::optional<std::string> owner;
  bool process = false;  // and build the due derivatives of what was ingested
  bool json = false;
};

// Adds the `ingest` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddIngestCommand(CLI::App& cli, IngestFlags& flags);
// `signals`: set when flags.process.
int RunIngest(app::App& app, const IngestFlags& flags, queue::ShutdownSignals* signals);

}  // namespace reprise::cli
