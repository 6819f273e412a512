#include "cli/worker_command.h"

#include "cli/common.h"

namespace reprise::cli {

void AddWorkerOptions(CLI::App& command, WorkerFlags& flags) {
  command
      .add_option("--concurrency", flags.concurrency,
                  "Jobs run side by side [config queue.concurrency, default: one per CPU core]")
      ->check(CLI::PositiveNumber);
  command
      .add_option("--stages", flags.stages,
                  "Only take jobs whose stages are all in this list (comma-separated)")
      ->delimiter(',')
      ->type_name("S,...");
  command
      .add_option("--lease", flags.lease_seconds,
                  "Seconds a claimed job is held without progress [config queue.lease_seconds]")
      ->check(CLI::Range(0.05, 86400.0))
      ->type_name("SECONDS");
  command
      .add_option("--grace", flags.grace_seconds,
                  "On SIGTERM, seconds running jobs may take before they are released [config "
                  "queue.grace_seconds]")
      ->check(CLI::Range(0.0, 86400.0))
      ->type_name("SECONDS");
}

queue::WorkerOptions WorkerOptionsFrom(app::App& app, const WorkerFlags& flags) {
  auto options = app.WorkerDefaults();
  if (flags.concurrency > 0) options.concurrency = flags.concurrency;
  options.stages = flags.stages;
  if (flags.lease_seconds) {
    options.lease_micros = static_cast<int64_t>(*flags.lease_seconds * 1e6);
    if (app.config().queue.heartbeat_seconds <= 0) options.heartbeat_micros = 0;  // lease / 3
  }
  if (flags.grace_seconds) options.grace_micros = static_cast<int64_t>(*flags.grace_seconds * 1e6);
  return options;
}

CLI::App* AddWorkerCommand(CLI::App& cli, WorkerFlags& flags) {
  auto* command = cli.add_subcommand(
      "worker", "Run queued jobs until SIGTERM/SIGINT (any number of workers may share a catalog)");
  AddWorkerOptions(*command, flags);
  return command;
}

int RunWorker(app::App& app, const WorkerFlags& flags, queue::ShutdownSignals& signals) {
  auto worker = app.NewWorker(WorkerOptionsFrom(app, flags));
  if (auto started = worker->Start(); !started) return ReportError(started.error());
  // Backfills nobody drives (detached, or whose foreground run stopped) go on here.
  auto pump = app.NewBackfillPump(worker->options().lease_micros);
  pump->SetOnDispatch([&worker] { worker->Wake(); });
  pump->Start();
  queue::ServeUntilSignalled(*worker, signals, app.log());
  pump->Stop();
  return kExitOk;
}

}  // namespace reprise::cli
