// `reprise assets list|show|duplicates`: lists assets oldest first (cursor-paged, with the
// reason when nothing matches), shows one asset with its streams and derivatives, and
// finds duplicate recordings (cli/duplicates_command.h).
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "cli/duplicates_command.h"

namespace reprise::cli {

struct AssetsListFlags {
  std::optional<std::string> status;
  std::optional<std::string> kind;
  std::optional<std::string> owner;
  int limit = 0;
  bool json = false;
};

struct AssetsShowFlags {
  std::string id;
  std::optional<std::string> owner;
  bool json = false;
};

struct AssetsFlags {
  CLI::App* list_command = nullptr;
  CLI::App* show_command = nullptr;
  CLI::App* duplicates_command = nullptr;
  AssetsListFlags list;
  AssetsShowFlags show;
  DuplicatesFlags duplicates;
};

// Adds `assets` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddAssetsCommand(CLI::App& cli, AssetsFlags& flags);
// Runs the assets subcommand that was parsed.
int RunAssets(app::App& app, const AssetsFlags& flags);

}  // namespace reprise::cli
