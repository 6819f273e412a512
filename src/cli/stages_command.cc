#include "cli/stages_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {

CLI::App* AddStagesCommand(CLI::App& cli, StagesFlags& flags) {
  auto* command =
      cli.add_subcommand("stages", "Each stage with its recipe and how many assets are current");
  command->add_option("--owner", flags.owner, "Count only this owner's assets");
  command->add_flag("--json", flags.json, "Print JSON");
  return command;
}

int RunStages(app::App& app, const StagesFlags& flags) {
  auto doc = app.stages().List(services::Caller::Admin("cli"), flags.owner);
  if (!doc) return ReportError(doc.error());
  if (flags.json) {
    PrintJson(*doc);
    return kExitOk;
  }
  Table table({"STAGE", "VERSION", "RECIPE", "CURRENT", "OUTDATED", "MISSING", "FAILED", "SKIPPED",
               "QUARANTINED", "LIMITS", "PARAMS"});
  for (const auto& s : *doc) {
    const auto& c = s["counts"];
    // "2 running, 60/min": the global limits in force; "-" for none.
    std::string limits;
    if (const auto& l = s["limits"]; !l["max_running"].is_null()) {
      limits = l["max_running"].dump() + " running";
    }
    if (const auto& l = s["limits"]; !l["rate"].is_null()) {
      limits += (limits.empty() ? "" : ", ") + l["rate"].get<std::string>();
    }
    table.AddRow({s["name"].get<std::string>(), std::to_string(s["version"].get<int>()),
                  s["recipe"].get<std::string>(), c["current"].dump(), c["outdated"].dump(),
                  c["missing"].dump(), c["failed"].dump(), c["skipped"].dump(),
                  c["quarantined"].dump(), limits.empty() ? "-" : limits, s["params"].dump()});
  }
  table.Print(stdout);
  return kExitOk;
}

}  // namespace reprise::cli
