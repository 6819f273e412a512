// `reprise queue [--owner ID] [--json]`: queue depth per stage, the oldest waiting job,
// running jobs with their leases, the quarantine count, and the items of detached
// backfills still waiting to be dispatched.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct QueueFlags {
  std::optional<std::string> owner;
  bool json = false;
};

// Adds the `queue` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddQueueCommand(CLI::App& cli, QueueFlags& flags);
int RunQueue(app::App& app, const QueueFlags& flags);

}  // namespace reprise::cli
