#include "cli/events_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/events.h"

namespace reprise::cli {
namespace {

// What the event is about: "asset A", "job 7 (asset A)", "backfill 3".
std::string Subject(const nlohmann::json& event) {
  std::string subject;
  auto add = [&](const char* key, const char* name) {
    if (!event.contains(key) || event[key].is_null()) return;
    const auto& value = event[key];
    subject += fmt::format("{}{} {}", subject.empty() ? "" : ", ", name,
                           value.is_string() ? value.get<std::string>() : value.dump());
  };
  add("backfill_id", "backfill");
  add("job_id", "job");
  add("asset_id", "asset");
  return subject.empty() ? "-" : subject;
}

}  // namespace

CLI::App* AddEventsCommand(CLI::App& cli, EventsFlags& flags) {
  auto* command = cli.add_subcommand("events", "The event log (what GET /api/v1/events streams)");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "List events, oldest first");
  list->add_option("--after", flags.after, "Only events after this id (a previous last_id)")
      ->type_name("ID");
  list->add_option("--type", flags.types,
                   "Only these types, comma-separated (asset.ready, job.finished, ...)")
      ->type_name("T");
  list->add_option("--limit", flags.limit, "At most N events (1..1000) [default 100]");
  list->add_option("--owner", flags.owner, "Only this owner's events")->type_name("ID");
  list->add_flag("--json", flags.json, "Print the JSON the HTTP API answers");
  flags.list_command = list;
  return command;
}

int RunEvents(app::App& app, const EventsFlags& flags) {
  auto types = services::ParseEventTypes(flags.types);
  if (!types) return ReportError(types.error());
  services::EventListRequest request{flags.after, *types, flags.owner, flags.limit};
  auto list = services::ListEvents(app.catalog(), services::Caller::Admin("cli"), request);
  if (!list) return ReportError(list.error());
  if (flags.json) {
    PrintJson(*list);
    return kExitOk;
  }
  if ((*list)["events"].empty()) {
    fmt::print("No events after {}.\n", flags.after);
    return kExitOk;
  }
  Table table({"ID", "TYPE", "OWNER", "ABOUT", "AT"});
  for (const auto& event : (*list)["events"]) {
    table.AddRow({event["id"].dump(), event.value("type", ""), event.value("owner", ""),
                  Subject(event), event.value("created_at", "")});
  }
  table.Print(stdout);
  fmt::print("Go on with --after {}.\n", (*list)["last_id"].dump());
  return kExitOk;
}

}  // namespace reprise::cli
