// `reprise tokens create|list|revoke`: the bearer tokens `reprise serve` accepts
// (services/tokens_service.h). `create` prints the new token once (it is stored hashed
// and cannot be shown again); `list` shows every token without it; `revoke` ends one.
// The command line acts as an admin.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct TokensCreateFlags {
  std::string owner;
  bool admin = false;
  std::string name;
  bool json = false;
};

struct TokensListFlags {
  bool json = false;
};

struct TokensRevokeFlags {
  int64_t id = 0;
  bool json = false;
};

struct TokensFlags {
  CLI::App* create_command = nullptr;
  CLI::App* list_command = nullptr;
  CLI::App* revoke_command = nullptr;
  TokensCreateFlags create;
  TokensListFlags list;
  TokensRevokeFlags revoke;
};

// Adds `tokens` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddTokensCommand(CLI::App& cli, TokensFlags& flags);
// True when the parsed subcommand writes (create may start a new library).
bool CreatesToken(const TokensFlags& flags);
// Runs the tokens subcommand that was parsed.
int RunTokens(app::App& app, const TokensFlags& flags);

}  // namespace reprise::cli
