#include "cli/process_command.h"

#include <fmt/format.h>

#include "app/views.h"
#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {

CLI::App* AddProcessCommand(CLI::App& cli, ProcessFlags& flags) {
  auto* command = cli.add_subcommand("process", "Run the due stages on every asset");
  command->add_option("--stage", flags.stages, "Only these stages (repeatable)");
  command->add_option("--owner", flags.owner, "Only this owner's assets")->type_name("ID");
  command->add_flag("--retry-failed", flags.retry_failed,
                    "Also rerun stages whose last attempt failed");
  command
      ->add_option("--concurrency", flags.concurrency,
                   "Worker slots in this process [config queue.concurrency, default: "
                   "one per CPU core]")
      ->check(CLI::PositiveNumber);
  command->add_flag("--json", flags.json, "Print the summary as JSON");
  return command;
}

std::function<bool()> Interrupted(queue::ShutdownSignals& signals) {
  return [&signals] { return signals.Wait(0) != 0; };
}

int WaitAndReport(queue::ProcessSession& session, const Logger& log, bool json,
                  nlohmann::json* json_out) {
  ProgressBar bar(stdout, log);
  auto summary = session.Wait([&](const queue::ProcessProgress& p) {
    if (!json) bar.Update(p.jobs_done, p.jobs_total, fmt::format("jobs  {} failed", p.failures));
  });
  bar.Clear();
  if (!summary) return ReportError(summary.error());

  if (json) {
    *json_out = app::ProcessSummaryJson(*summary);
  } else {
    fmt::print("Processed {} of {} asset(s) with due stages ({} job(s)) in {}\n",
               summary->assets_run, summary->assets_seen, summary->jobs,
               HumanSeconds(summary->elapsed_seconds));
    Table table({"STAGE", "DONE", "FAILED", "SKIPPED"});
    for (const auto& [stage, tally] : summary->stages) {
      std::string skipped;
      int64_t total = 0;
      for (const auto& [reason, count] : tally.skipped) {
        total += count;
        skipped += fmt::format("{}{}: {}", skipped.empty() ? " (" : ", ", reason, count);
      }
      if (!skipped.empty()) skipped += ")";
      table.AddRow({stage, std::to_string(tally.done), std::to_string(tally.failed),
                    std::to_string(total) + skipped});
    }
    if (!table.empty()) table.Print(stdout);
    for (const auto& [stage, count] : summary->quarantined) {
      fmt::print("quarantined: {} asset(s) not run for {} (see `reprise queue`)\n", count, stage);
    }
    for (const auto& failure : summary->failures) {
      fmt::print(stderr, "failed: asset {} stage {}: {}\n", failure.asset_id, failure.stage,
                 failure.error.ToString());
    }
    if (summary->interrupted) {
      fmt::print(stderr,
                 "interrupted: {} job(s) left in the queue; `reprise worker` or `reprise "
                 "process` finishes them\n",
                 summary->jobs_left);
    }
  }
  bool clean = summary->failures.empty() && summary->jobs_failed == 0 && !summary->interrupted;
  return clean ? kExitOk : kExitFailures;
}

int RunProcess(app::App& app, const ProcessFlags& flags, queue::ShutdownSignals& signals) {
  services::ProcessSpec spec;
  spec.stages = flags.stages;
  spec.owner = flags.owner;
  spec.retry_failed = flags.retry_failed;
  spec.concurrency = flags.concurrency;
  auto session =
      app.process_service().Begin(services::Caller::Admin("cli"), spec, Interrupted(signals));
  if (!session) return ReportError(session.error());
  nlohmann::json json;
  int code = WaitAndReport(**session, app.log(), flags.json, &json);
  if (flags.json && !json.is_null()) PrintJson(json);
  return code;
}

}  // namespace reprise::cli
