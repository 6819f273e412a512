#include "cli/jobs_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "app/views.h"
#include "cli/common.h"
#include "cli/terminal.h"

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
  catalog::JobFilter filter;
  filter.owner = flags.owner;
  filter.stage = flags.stage;
  filter.asset_id = flags.asset;
  if (flags.state) {
    auto state = catalog::ParseJobState(*flags.state);
    if (!state) return ReportError(state.error());
    filter.state = *state;
  }
  const int64_t now = app.clock().NowMicros();
  Table table({"ID", "STATE", "PRIO", "TRIES", "ASSET", "STAGES", "UPDATED", "DETAIL"});
  nlohmann::json items = nlohmann::json::array();
  int64_t shown = 0;
  catalog::PageRequest page;
  page.cursor = flags.cursor;
  do {
    page.limit =
        flags.limit > 0 ? static_cast<int>(std::min<int64_t>(500, flags.limit - shown)) : 500;
    auto batch = app.catalog().ListJobs(filter, page);
    if (!batch) return ReportError(batch.error());
    for (const auto& job : batch->items) {
      if (flags.json) {
        items.push_back(app::JobJson(job));
      } else {
        table.AddRow(JobRow(job, now));
      }
      ++shown;
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty() && (flags.limit == 0 || shown < flags.limit));
  // The limit stopped the listing before the end: say so, and how to see the rest.
  std::string more;
  if (!page.cursor.empty()) {
    more = fmt::format(
        "{} jobs shown, and more match: use --limit N (0: all), or --cursor {} for the next "
        "page",
        shown, page.cursor);
  }
  if (flags.json) {
    PrintJson(items);
    if (!more.empty()) fmt::print(stderr, "reprise: {}\n", more);
  } else if (table.empty()) {
    fmt::print("No jobs match.\n");
  } else {
    table.Print(stdout);
    if (!more.empty()) fmt::print("{}\n", more);
  }
  return kExitOk;
}

int RunJobsRetry(app::App& app, const JobsRetryFlags& flags) {
  if (flags.id.has_value() == flags.failed) {
    return ReportError({ErrorCode::kInvalidArgument, "give a job ID or --failed, not both", ""});
  }
  catalog::JobFilter filter;
  filter.owner = flags.owner;
  filter.stage = flags.stage;
  if (flags.id) {
    catalog::AssetFilter scope;
    scope.owner = flags.owner;
    auto job = app.catalog().GetJob(*flags.id, scope);
    if (!job) return ReportError(job.error());
    if (job->state != catalog::JobState::kFailed && job->state != catalog::JobState::kCancelled) {
      return ReportError({ErrorCode::kConflict,
                          fmt::format("job {} is {}; only failed or cancelled jobs can be retried",
                                      job->id, catalog::Name(job->state)),
                          ""});
    }
    filter.job_id = job->id;
    filter.stage.reset();
  } else {
    filter.state = catalog::JobState::kFailed;
  }
  auto retried = app.catalog().RetryJobs(filter);
  if (!retried) return ReportError(retried.error());
  if (flags.json) {
    PrintJson({{"retried", *retried}});
  } else {
    fmt::print("Requeued {} job(s).\n", *retried);
  }
  return kExitOk;
}

int RunJobsCancel(app::App& app, const JobsCancelFlags& flags) {
  catalog::AssetFilter scope;
  scope.owner = flags.owner;
  auto state = app.catalog().CancelJob(flags.id, scope);
  if (!state) return ReportError(state.error());
  if (flags.json) {
    PrintJson({{"id", flags.id}, {"state", catalog::Name(*state)}});
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
