#include "cli/migrate_command.h"

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "app/backends/migrations.h"
#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {
namespace {

int Print(const app::MigrationStatus& status, bool json) {
  if (json) {
    nlohmann::json doc = {{"catalog", status.catalog},
                          {"version", status.current},
                          {"latest", status.latest},
                          {"migrations", nlohmann::json::array()}};
    for (const auto& migration : status.migrations) {
      nlohmann::json item = {{"version", migration.version},
                             {"name", migration.name},
                             {"applied", migration.applied_at.has_value()}};
      if (migration.applied_at) item["applied_at"] = FormatRfc3339(*migration.applied_at);
      doc["migrations"].push_back(std::move(item));
    }
    PrintJson(doc);
    return kExitOk;
  }
  fmt::print("Catalog {}: schema version {} of {}\n\n", status.catalog, status.current,
             status.latest);
  Table table({"VERSION", "NAME", "APPLIED"});
  for (const auto& migration : status.migrations) {
    table.AddRow({std::to_string(migration.version), migration.name,
                  migration.applied_at ? FormatRfc3339(*migration.applied_at) : "no"});
  }
  table.Print(stdout);
  return kExitOk;
}

}  // namespace

CLI::App* AddMigrateCommand(CLI::App& cli, MigrateFlags& flags) {
  CLI::App* migrate = cli.add_subcommand(
      "migrate", "Show or move the catalog's schema version (SQLite or PostgreSQL)");
  migrate->require_subcommand(1);
  flags.status_command =
      migrate->add_subcommand("status", "Every migration this build knows, and which are applied");
  flags.up_command = migrate->add_subcommand("up", "Apply migrations (to the newest by default)");
  flags.up_command->add_option("--to", flags.up_to, "Stop at this version")->type_name("N");
  flags.down_command =
      migrate->add_subcommand("down", "Revert migrations above --to (drops their tables)");
  flags.down_command->add_option("--to", flags.down_to, "The version to go back to")
      ->type_name("N")
      ->required();
  for (CLI::App* command : {flags.status_command, flags.up_command, flags.down_command}) {
    command->add_flag("--json", flags.json, "Print JSON");
  }
  return migrate;
}

int RunMigrate(const Config& config, const MigrateFlags& flags) {
  SystemClock clock;
  Result<app::MigrationStatus> status = app::ReadMigrationStatus(config);
  if (status && *flags.up_command) {
    const int target = flags.up_to.value_or(status->latest);
    if (target < status->current) {
      return ReportError(Error{ErrorCode::kInvalidArgument,
                               fmt::format("the schema is at version {}: `migrate up --to {}` "
                                           "would go down; use `migrate down --to {}`",
                                           status->current, target, target),
                               ""});
    }
    status = app::MigrateCatalog(config, target, clock);
  } else if (status && *flags.down_command) {
    if (flags.down_to > status->current) {
      return ReportError(Error{ErrorCode::kInvalidArgument,
                               fmt::format("the schema is at version {}: `migrate down --to {}` "
                                           "would go up; use `migrate up --to {}`",
                                           status->current, flags.down_to, flags.down_to),
                               ""});
    }
    status = app::MigrateCatalog(config, flags.down_to, clock);
  } else if (!status && *flags.up_command && status.error().code == ErrorCode::kNotFound) {
    // A new SQLite catalog: up creates it.
    status = app::MigrateCatalog(config, flags.up_to, clock);
  }
  if (!status) return ReportError(status.error());
  return Print(*status, flags.json);
}

}  // namespace reprise::cli
