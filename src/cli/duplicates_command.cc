#include "cli/duplicates_command.h"

#include <algorithm>

#include <fmt/core.h>

#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {
CLI::App* AddDuplicatesCommand(CLI::App& assets, DuplicatesFlags& flags) {
  flags.threshold = services::kDefaultDuplicateThreshold;
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
  auto report = app.duplicates().Find(services::Caller::Admin("cli"), flags.owner, flags.threshold);
  if (!report) return ReportError(report.error());
  if (flags.json) {
    PrintJson(services::DuplicatesJson(*report));
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
