// `reprise assets list|show|delete|duplicates`: lists assets oldest first (with the
// backfill filters, and the reason when nothing matches), shows one asset with its
// streams and derivatives, deletes one with its files, and finds duplicate recordings
// (cli/duplicates_command.h). The rules are services::AssetsService's.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "backfill/service.h"
#include "cli/duplicates_command.h"

namespace reprise::cli {

struct AssetsListFlags {
  backfill::Selection selection;  // --status, --kind, --owner, ... as `backfill` takes them
  int limit = 0;
  bool json = false;
};

struct AssetsShowFlags {
  std::string id;
  std::optional<std::string> owner;
  bool json = false;
};

struct AssetsDeleteFlags {
  std::string id;
  std::optional<std::string> owner;
  bool json = false;
};

struct AssetsFlags {
  CLI::App* list_command = nullptr;
  CLI::App* show_command = nullptr;
  CLI::App* delete_command = nullptr;
  CLI::App* duplicates_command = nullptr;
  AssetsListFlags list;
  AssetsShowFlags show;
  AssetsDeleteFlags remove;
  DuplicatesFlags duplicates;
};

// Adds `assets` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddAssetsCommand(CLI::App& cli, AssetsFlags& flags);
// Runs the assets subcommand that was parsed.
int RunAssets(app::App& app, const AssetsFlags& flags);

}  // namespace reprise::cli
