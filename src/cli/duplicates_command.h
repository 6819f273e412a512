// `reprise assets duplicates [--threshold T] [--owner ID] [--json]`: groups of assets
// whose audio is the same or near-same recording (services/duplicates_service.h), from the current
// results of the fingerprint stage.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct DuplicatesFlags {
  double threshold = 0;  // set from services::kDefaultDuplicateThreshold
  std::optional<std::string> owner;
  bool json = false;
};

// Adds the `duplicates` subcommand to `assets`; `flags` must outlive parsing.
CLI::App* AddDuplicatesCommand(CLI::App& assets, DuplicatesFlags& flags);
int RunDuplicates(app::App& app, const DuplicatesFlags& flags);

}  // namespace reprise::cli
