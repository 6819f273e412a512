// `reprise jobs list|retry|cancel`: lists queued work newest first (cursor-paged), queues
// failed or cancelled jobs again, and cancels a queued job or asks a running one to stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"

namespace reprise::cli {

struct JobsListFlags {
  std::optional<std::string> state;
  std::optional<std::string> stage;
  std::optional<std::string> asset;
  std::optional<std::string> owner;
  int limit = 100;
  std::string cursor;  // from an earlier page's "--cursor C"
  bool json = false;
};

struct JobsRetryFlags {
  std::optional<int64_t> id;
  bool failed = false;
  std::optional<std::string> stage;
  std::optional<std::string> owner;
  bool json = false;
};

struct JobsCancelFlags {
  int64_t id = 0;
  std::optional<std::string> owner;
  bool json = false;
};

struct JobsFlags {
  CLI::App* list_command = nullptr;
  CLI::App* retry_command = nullptr;
  CLI::App* cancel_command = nullptr;
  JobsListFlags list;
  JobsRetryFlags retry;
  JobsCancelFlags cancel;
};

// Adds `jobs` and its subcommands to `cli`; `flags` must outlive parsing.
CLI::App* AddJobsCommand(CLI::App& cli, JobsFlags& flags);
// Runs the jobs subcommand that was parsed.
int RunJobs(app::App& app, const JobsFlags& flags);

}  // namespace reprise::cli
