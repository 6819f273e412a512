// `reprise webhooks list|add|delete|deliveries`: the outgoing webhook subscriptions
// `reprise serve` delivers to, and each one's deliveries with their attempt log
// (services/webhooks.h). A thin adapter: the command line acts as an admin, narrowed to
// one owner by --owner; --json prints the document the HTTP API answers
// (/api/v1/webhooks/subscriptions...), a table otherwise. `add` prints the secret once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct WebhooksFlags {
  CLI::App* list_command = nullptr;
  CLI::App* add_command = nullptr;
  CLI::App* delete_command = nullptr;
  CLI::App* deliveries_command = nullptr;
  std::optional<std::string> owner;  // every subcommand's --owner
  bool json = false;                 // every subcommand's --json
  std::string url;                   // add
  std::vector<std::string> events;   // add --event
  std::optional<std::string> secret;
  std::string description;
  int64_t id = 0;   // delete, deliveries
  int limit = 100;  // deliveries
};

// Adds `webhooks` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddWebhooksCommand(CLI::App& cli, WebhooksFlags& flags);
// True when the parsed subcommand writes (add may start a new library).
bool AddsWebhook(const WebhooksFlags& flags);
// Runs the webhooks subcommand that was parsed.
int RunWebhooks(app::App& app, const WebhooksFlags& flags);

}  // namespace reprise::cli
