#include "cli/queue_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/queue_service.h"

namespace reprise::cli {

CLI::App* AddQueueCommand(CLI::App& cli, QueueFlags& flags) {
  auto* command = cli.add_subcommand(
      "queue", "Queue depth per stage, oldest waiting job, running jobs, quarantine count");
  command->add_option("--owner", flags.owner, "Count only this owner's jobs")->type_name("ID");
  command->add_flag("--json", flags.json, "Print JSON");
  return command;
}

int RunQueue(app::App& app, const QueueFlags& flags) {
  auto view = app.queue().Get(services::Caller::Admin("cli"), flags.owner);
  if (!view) return ReportError(view.error());
  auto doc = services::QueueJson(*view);
  if (flags.json) {
    PrintJson(doc);
    return kExitOk;
  }
  const auto& stats = view->stats;
  const auto& waiting = view->waiting;
  const int64_t now = view->now_micros;
  Table depth({"STAGE", "QUEUED", "RUNNING", "FAILED"});
  for (const auto& [stage, counts] : doc["depth"].items()) {
    depth.AddRow(
        {stage, counts["queued"].dump(), counts["running"].dump(), counts["failed"].dump()});
  }
  if (depth.empty()) {
    fmt::print("{}\n", waiting.empty() ? "The queue is empty." : "No job is queued or running.");
  } else {
    depth.Print(stdout);
  }
  // Detached backfills put their items into the queue a few at a time.
  for (const auto& backfill : waiting) {
    fmt::print("backfill {}{}: {} item(s) over {} asset(s) waiting for dispatch{}\n",
               backfill.backfill_id,
               backfill.state == catalog::BackfillState::kPaused ? " (paused)" : "", backfill.items,
               backfill.assets,
               backfill.state == catalog::BackfillState::kPaused ? " once it is resumed" : "");
  }
  fmt::print("\noldest waiting  {}\n", Age(stats.oldest_queued_at, now));
  fmt::print("quarantined     {}\n", stats.quarantined);
  fmt::print("running         {}\n", stats.running.size());
  if (!stats.running.empty()) {
    fmt::print("\n");
    Table running({"JOB", "ASSET", "STAGES", "WORKER", "RUNNING", "LEASE"});
    for (const auto& job : stats.running) {
      running.AddRow({std::to_string(job.job_id), job.asset_id, JoinNames(job.stages), job.worker,
                      Age(job.started_at, now), catalog::DescribeLease(job.lease_expires_at, now)});
    }
    running.Print(stdout);
  }
  return kExitOk;
}

}  // namespace reprise::cli
