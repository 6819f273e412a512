#include "cli/duplicates_command.h"

#include <algorithm>

#include <fmt/core.h>

#include "app/duplicates.h"
#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {
namespace {

nlohmann::json ReportJson(const app::DuplicateReport& report) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& group : report.groups) {
    nlohmann::json assets = nlohmann::json::array();
    for (const auto& asset : group.assets) {
      assets.push_back(
          {{"id", asset.asset_id},
           {"name", asset.name},
           {"duration_seconds", asset.duration_seconds ? nlohmann::json(*asset.duration_seconds)
                                                       : nlohmann::json(nullptr)}});
    }
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& pair : group.pairs) {
      pairs.push_back({{"a", pair.a}, {"b", pair.b}, {"similarity", pair.similarity}});
    }
    groups.push_back({{"assets", assets}, {"pairs", pairs}});
  }
  return {{"threshold", report.threshold},
          {"fingerprinted", report.fingerprinted},
          {"unreadable", report.unreadable},
          {"candidates", report.candidates},
          {"groups", groups}};
}

}  // namespace

CLI::App* AddDuplicatesCommand(CLI::App& assets, DuplicatesFlags& flags) {
  flags.threshold = app::kDefaultDuplicateThreshold;
  auto* command = assets.add_subcommand(
      "duplicates",
      "Groups of assets whose audio is the same recording (needs the fingerprint stage)");
  command
      ->add_option("--threshold", flags.threshold,
                   "Similarity above 0, at most 1, at which two assets count as the same [0.8]")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--owner", flags.owner, "Only this owner's assets")->type_name("ID");
  command->add_flag("--json", flags.json, "Print JSON");
  return command;
}

int RunDuplicates(app::App& app, const DuplicatesFlags& flags) {
  catalog::AssetFilter filter;
  filter.owner = flags.owner;
  auto report = app::FindDuplicates(app.catalog(), filter, flags.threshold);
  if (!report) return ReportError(report.error());
  if (flags.json) {
    PrintJson(ReportJson(*report));
    return kExitOk;
  }
  if (report->fingerprinted == 0) {
    fmt::print(
        "No asset has a fingerprint yet: run `reprise backfill fingerprint` (or process) first.\n");
    return kExitOk;
  }
  int number = 0;
  for (const auto& group : report->groups) {
    fmt::print("Group {} ({} assets)\n", ++number, group.assets.size());
    Table table({"ID", "DURATION", "NAME", "BEST MATCH"});
    for (const auto& asset : group.assets) {
      double best = 0;
      for (const auto& pair : group.pairs) {
        if (pair.a == asset.asset_id || pair.b == asset.asset_id) {
          best = std::max(best, pair.similarity);
        }
      }
      table.AddRow({asset.asset_id,
                    asset.duration_seconds ? fmt::format("{:.2f}s", *asset.duration_seconds) : "-",
                    asset.name, fmt::format("{:.3f}", best)});
    }
    table.Print(stdout);
    fmt::print("\n");
  }
  fmt::print("{} duplicate group(s) among {} fingerprinted asset(s) at threshold {:.2f}",
             report->groups.size(), report->fingerprinted, report->threshold);
  if (report->unreadable > 0) fmt::print(" ({} fingerprint(s) unreadable)", report->unreadable);
  fmt::print("\n");
  return kExitOk;
}

}  // namespace reprise::cli
