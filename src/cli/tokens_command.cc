#include "cli/tokens_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/tokens_service.h"

namespace reprise::cli {
namespace {

constexpr const char* kShownOnce = "This token will not be shown again: store it now.";

std::string Who(const catalog::ApiToken& token) {
  if (token.admin) return token.owner.empty() ? "admin" : "admin (owner " + token.owner + ")";
  return "owner " + token.owner;
}

int RunTokensCreate(app::App& app, const TokensCreateFlags& flags) {
  auto created =
      app.tokens().Create(services::Caller::Admin(), flags.owner, flags.admin, flags.name);
  if (!created) return ReportError(created.error());
  if (flags.json) {
    auto doc = services::TokenJson(created->record);
    doc["token"] = created->token;
    PrintJson(doc);
    fmt::print(stderr, "reprise: {}\n", kShownOnce);
  } else {
    fmt::print("Created token {} \"{}\" for {}:\n\n  {}\n\n{}\n", created->record.id,
               created->record.name, Who(created->record), created->token, kShownOnce);
  }
  return kExitOk;
}

int RunTokensList(app::App& app, const TokensListFlags& flags) {
  auto tokens = app.tokens().List(services::Caller::Admin());
  if (!tokens) return ReportError(tokens.error());
  if (flags.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& token : *tokens) items.push_back(services::TokenJson(token));
    PrintJson(items);
    return kExitOk;
  }
  if (tokens->empty()) {
    fmt::print(
        "No API tokens: `reprise serve` answers loopback requests as an admin and refuses "
        "other addresses. Create one with `reprise tokens create --owner ID`.\n");
    return kExitOk;
  }
  const int64_t now = app.clock().NowMicros();
  Table table({"ID", "NAME", "FOR", "STATE", "CREATED", "LAST USED"});
  for (const auto& token : *tokens) {
    table.AddRow({std::to_string(token.id), token.name, Who(token),
                  token.active() ? "active" : "revoked " + Age(token.revoked_at, now) + " ago",
                  Age(token.created_at, now) + " ago",
                  token.last_used_at > 0 ? Age(token.last_used_at, now) + " ago" : "never"});
  }
  table.Print(stdout);
  return kExitOk;
}

int RunTokensRevoke(app::App& app, const TokensRevokeFlags& flags) {
  auto revoked = app.tokens().Revoke(services::Caller::Admin(), flags.id);
  if (!revoked) return ReportError(revoked.error());
  if (flags.json) {
    PrintJson(services::TokenJson(*revoked));
  } else {
    fmt::print(
        "Token {} \"{}\" revoked: running servers refuse it within 5 seconds "
        "(their token cache).\n",
        revoked->id, revoked->name);
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddTokensCommand(CLI::App& cli, TokensFlags& flags) {
  auto* command =
      cli.add_subcommand("tokens", "Create, list and revoke the bearer tokens of `reprise serve`");
  command->require_subcommand(1);

  auto* create =
      command->add_subcommand("create", "Create a token and print it once (only its hash is kept)");
  create->add_option("--owner", flags.create.owner, "The owner whose assets the token sees")
      ->type_name("ID");
  create->add_flag("--admin", flags.create.admin,
                   "The token sees every owner and may use admin routes (--owner optional)");
  create->add_option("--name", flags.create.name, "A label for lists and logs [default: owner]")
      ->type_name("N");
  create->add_flag("--json", flags.create.json, "Print the token and its record as JSON");
  flags.create_command = create;

  auto* list = command->add_subcommand("list", "List tokens (never the tokens themselves)");
  list->add_flag("--json", flags.list.json, "Print JSON");
  flags.list_command = list;

  auto* revoke = command->add_subcommand("revoke", "Revoke a token for good");
  revoke->add_option("ID", flags.revoke.id, "The token's id (from `tokens list`)")->required();
  revoke->add_flag("--json", flags.revoke.json, "Print the revoked token as JSON");
  flags.revoke_command = revoke;
  return command;
}

bool CreatesToken(const TokensFlags& flags) {
  return flags.create_command != nullptr && *flags.create_command;
}

int RunTokens(app::App& app, const TokensFlags& flags) {
  if (*flags.create_command) return RunTokensCreate(app, flags.create);
  if (*flags.list_command) return RunTokensList(app, flags.list);
  return RunTokensRevoke(app, flags.revoke);
}

}  // namespace reprise::cli
