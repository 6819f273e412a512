// `reprise events list [--after ID] [--type T] [--limit N] [--owner ID]`: the event log
// (services/events.h) as GET /api/v1/events?format=json answers it with --json, a table
// otherwise. The command line acts as an admin, narrowed to one owner by --owner; page on
// with --after the "last_id" printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct EventsFlags {
  CLI::App* list_command = nullptr;
  int64_t after = 0;
  std::string types;  // "asset.ready,job.finished"
  int limit = 100;
  std::optional<std::string> owner;
  bool json = false;
};

// Adds `events` and its subcommand to `cli`; `flags` must outlive parsing.
CLI::App* AddEventsCommand(CLI::App& cli, EventsFlags& flags);
int RunEvents(app::App& app, const EventsFlags& flags);

}  // namespace reprise::cli
