#include "cli/webhooks_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/webhooks.h"

namespace reprise::cli {
namespace {

services::Caller Cli() { return services::Caller::Admin("cli"); }

std::string OwnerText(const nlohmann::json& owner) {
  const std::string text = owner.get<std::string>();
  return text.empty() ? "(every owner)" : text;
}

std::string Joined(const nlohmann::json& strings) {
  std::string out;
  for (const auto& item : strings) out += (out.empty() ? "" : ",") + item.get<std::string>();
  return out;
}

int RunList(app::App& app, const WebhooksFlags& flags) {
  auto list = services::ListWebhookSubscriptions(app.catalog(), Cli(), flags.owner);
  if (!list) return ReportError(list.error());
  if (flags.json) {
    PrintJson(*list);
    return kExitOk;
  }
  if ((*list)["subscriptions"].empty()) {
    fmt::print(
        "No webhook subscriptions. Add one with `reprise webhooks add URL --event "
        "asset.ready`.\n");
    return kExitOk;
  }
  Table table({"ID", "OWNER", "URL", "EVENTS", "ORIGIN", "CREATED"});
  for (const auto& item : (*list)["subscriptions"]) {
    table.AddRow({item["id"].dump(), OwnerText(item["owner"]), item["url"], Joined(item["events"]),
                  item["origin"], item["created_at"]});
  }
  table.Print(stdout);
  return kExitOk;
}

int RunAdd(app::App& app, const WebhooksFlags& flags) {
  services::NewSubscriptionRequest request{flags.url, flags.secret, flags.events, flags.owner,
                                           flags.description};
  auto created = services::CreateWebhookSubscription(
      app.catalog(), Cli(), request, services::WebhookAddressRules(app.config().webhooks));
  if (!created) return ReportError(created.error());
  if (flags.json) {
    PrintJson(*created);
  } else {
    fmt::print(
        "Created webhook subscription {} to {} for {} ({}).\nIts signing secret, shown "
        "only now:\n\n  {}\n",
        (*created)["id"].dump(), (*created)["url"].get<std::string>(),
        OwnerText((*created)["owner"]), Joined((*created)["events"]),
        (*created)["secret"].get<std::string>());
  }
  return kExitOk;
}

int RunDelete(app::App& app, const WebhooksFlags& flags) {
  auto deleted = services::DeleteWebhookSubscription(app.catalog(), Cli(), flags.id, flags.owner);
  if (!deleted) return ReportError(deleted.error());
  if (flags.json) {
    PrintJson({{"id", flags.id}, {"deleted", true}});
  } else {
    fmt::print("Webhook subscription {} deleted.\n", flags.id);
  }
  return kExitOk;
}

int RunDeliveries(app::App& app, const WebhooksFlags& flags) {
  auto list =
      services::ListWebhookDeliveries(app.catalog(), Cli(), flags.id, flags.limit, flags.owner);
  if (!list) return ReportError(list.error());
  if (flags.json) {
    PrintJson(*list);
    return kExitOk;
  }
  if ((*list)["deliveries"].empty()) {
    fmt::print("No deliveries for webhook subscription {} yet.\n", flags.id);
    return kExitOk;
  }
  Table table({"ID", "EVENT", "STATE", "ATTEMPTS", "LAST STATUS", "LAST ERROR", "CREATED"});
  for (const auto& item : (*list)["deliveries"]) {
    table.AddRow({item["id"].dump(), item["event_type"], item["state"], item["attempts"].dump(),
                  item["last_status"].is_null() ? "-" : item["last_status"].dump(),
                  item["last_error"], item["created_at"]});
  }
  table.Print(stdout);
  return kExitOk;
}

}  // namespace

CLI::App* AddWebhooksCommand(CLI::App& cli, WebhooksFlags& flags) {
  auto* command = cli.add_subcommand(
      "webhooks", "List, add and delete outgoing webhook subscriptions; show their deliveries");
  command->require_subcommand(1);
  auto common = [&flags](CLI::App* sub, const char* owner_help) {
    sub->add_option("--owner", flags.owner, owner_help)->type_name("ID");
    sub->add_flag("--json", flags.json, "Print the JSON the HTTP API answers");
  };
  flags.list_command = command->add_subcommand("list", "List subscriptions (never their secrets)");
  common(flags.list_command, "Only this owner's subscriptions");

  auto* add = command->add_subcommand("add", "Subscribe a receiver URL to events");
  add->add_option("URL", flags.url, "The receiver (http or https)")->required();
  add->add_option("--event", flags.events,
                  "asset.ready, asset.failed or backfill.finished (repeat for several)")
      ->required()
      ->type_name("TYPE");
  add->add_option("--secret", flags.secret, "A whsec_... signing secret [default: generated]")
      ->type_name("S");
  add->add_option("--description", flags.description, "A note for lists")->type_name("TEXT");
  common(add, "The owner whose events it receives [default: every owner's]");
  flags.add_command = add;

  auto* remove = command->add_subcommand("delete", "Delete a subscription and its deliveries");
  remove->add_option("ID", flags.id, "The subscription's id")->required();
  common(remove, "Only if it belongs to this owner");
  flags.delete_command = remove;

  auto* deliveries = command->add_subcommand(
      "deliveries", "A subscription's deliveries, newest first, with their attempts");
  deliveries->add_option("ID", flags.id, "The subscription's id")->required();
  deliveries->add_option("--limit", flags.limit, "At most N deliveries (1..1000) [default 100]");
  common(deliveries, "Only if it belongs to this owner");
  flags.deliveries_command = deliveries;
  return command;
}

bool AddsWebhook(const WebhooksFlags& flags) {
  return flags.add_command != nullptr && *flags.add_command;
}

int RunWebhooks(app::App& app, const WebhooksFlags& flags) {
  if (*flags.list_command) return RunList(app, flags);
  if (*flags.add_command) return RunAdd(app, flags);
  if (*flags.delete_command) return RunDelete(app, flags);
  if (*flags.deliveries_command) return RunDeliveries(app, flags);
  return kExitUsage;
}

}  // namespace reprise::cli
