// `reprise stages [--owner ID] [--json]`: each registered stage with its version, recipe
// and parameters, and how many assets are current, outdated, missing, failed, skipped or
// quarantined for it.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct StagesFlags {
  std::optional<std::string> owner;
  bool json = false;
};

// Adds the `stages` subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddStagesCommand(CLI::App& cli, StagesFlags& flags);
int RunStages(app::App& app, const StagesFlags& flags);

}  // namespace reprise::cli
