#include "cli/jobs_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/views.h"

namespace reprise::cli {
namespace {

// One row of the `jobs list` table, as seen at `now`.
std::vector<std::string> JobRow(const catalog::Job& job, int64_t now) {
  std::string detail;
  if (job.state == catalog::JobState::kRunning) {
    detail = fmt::format("{} (lease {})", job.lease_owner,
                         catalog::DescribeLease(job.lease_expires_at, now));
  } else if (job.state == catalog::JobState::kQueued && job.run_after > now) {
    detail = "retry in " + HumanSeconds(static_cast<double>(job.run_after - now) / 1e6);
  }
  if (!job.last_error_code.empty()) {
    detail += (detail.empty() ? "" : "; ") + job.last_error_code + ": " + job.last_error_message;
  }
  return {std::to_string(job.id),
          std::string(catalog::Name(job.state)),
          std::to_string(job.priority),
          fmt::format("{}/{}", job.attempts, job.max_attempts),
          job.asset_id,
          JoinNames(job.stages),
          Age(job.updated_at, now) + " ago",
          detail};
}

int RunJobsList(app::App& app, const JobsListFlags& flags) {
  services::JobQuery query{flags.state, flags.stage, flags.asset, flags.owner};
  auto list = app.jobs().List(services::Caller::Admin("cli"), query, flags.cursor, flags.limit);
  if (!list) return ReportError(list.error());
  if (flags.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& job : list->items) items.push_back(services::JobJson(job));
    PrintJson(items);
    if (!list->more.empty()) fmt::print(stderr, "reprise: {}\n", list->more);
    return kExitOk;
  }
  if (list->items.empty()) {
    fmt::print("No jobs match.\n");
    return kExitOk;
  }
  const int64_t now = app.clock().NowMicros();
  Table table({"ID", "STATE", "PRIO", "TRIES", "ASSET", "STAGES", "UPDATED", "DETAIL"});
  for (const auto& job : list->items) table.AddRow(JobRow(job, now));
  table.Print(stdout);
  if (!list->more.empty()) fmt::print("{}\n", list->more);
  return kExitOk;
}

int RunJobsRetry(app::App& app, const JobsRetryFlags& flags) {
  if (flags.id.has_value() == flags.failed) {
    return ReportError({ErrorCode::kInvalidArgument, "give a job ID or --failed, not both", ""});
  }
  const auto caller = services::Caller::Admin("cli");
  auto retried = flags.id ? app.jobs().Retry(caller, *flags.id, flags.owner)
                          : app.jobs().RetryFailed(caller, {flags.stage, flags.owner});
  if (!retried) return ReportError(retried.error());
  if (flags.json) {
    PrintJson(services::RetriedJson(*retried));
  } else {
    fmt::print("Requeued {} job(s).\n", *retried);
  }
  return kExitOk;
}

int RunJobsCancel(app::App& app, const JobsCancelFlags& flags) {
  auto state = app.jobs().Cancel(services::Caller::Admin("cli"), flags.id, flags.owner);
  if (!state) return ReportError(state.error());
  if (flags.json) {
    PrintJson(services::CancelledJson(flags.id, *state));
  } else if (*state == catalog::JobState::kCancelled) {
    fmt::print("Job {} cancelled.\n", flags.id);
  } else {
    fmt::print("Job {} is {}: its worker stops it at its next heartbeat.\n", flags.id,
               catalog::Name(*state));
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddJobsCommand(CLI::App& cli, JobsFlags& flags) {
  auto* command = cli.add_subcommand("jobs", "List, retry and cancel queued work");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "List jobs, newest first");
  list->add_option("--state", flags.list.state, "queued, running, succeeded, failed or cancelled");
  list->add_option("--stage", flags.list.stage, "Jobs holding this stage");
  list->add_option("--asset", flags.list.asset, "Jobs of this asset")->type_name("ID");
  list->add_option("--owner", flags.list.owner, "Only this owner's jobs")->type_name("ID");
  list->add_option("--limit", flags.list.limit, "Show at most N jobs (0: all) [default 100]")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--cursor", flags.list.cursor,
                   "Go on after an earlier listing (the cursor it printed)")
      ->type_name("C");
  list->add_flag("--json", flags.list.json, "Print a JSON array");
  auto* retry =
      command->add_subcommand("retry", "Queue a failed or cancelled job (or all failed) again");
  retry->add_option("id", flags.retry.id, "Job id");
  retry->add_flag("--failed", flags.retry.failed, "Every failed job (with filters)");
  retry->add_option("--stage", flags.retry.stage, "Only jobs holding this stage");
  retry->add_option("--owner", flags.retry.owner, "Only this owner's jobs")->type_name("ID");
  retry->add_flag("--json", flags.retry.json, "Print JSON");
  auto* cancel = command->add_subcommand(
      "cancel", "Cancel a queued job, or ask a running one to stop at its next heartbeat");
  cancel->add_option("id", flags.cancel.id, "Job id")->required();
  cancel->add_option("--owner", flags.cancel.owner, "Only if it belongs to this owner")
      ->type_name("ID");
  cancel->add_flag("--json", flags.cancel.json, "Print JSON");
  flags.list_command = list;
  flags.retry_command = retry;
  flags.cancel_command = cancel;
  return command;
}

int RunJobs(app::App& app, const JobsFlags& flags) {
  if (flags.list_command->parsed()) return RunJobsList(app, flags.list);
  if (flags.retry_command->parsed()) return RunJobsRetry(app, flags.retry);
  if (flags.cancel_command->parsed()) return RunJobsCancel(app, flags.cancel);
  return kExitUsage;
}

}  // namespace reprise::cli
