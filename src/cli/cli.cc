#include "cli/cli.h"

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/app.h"
#include "cli/assets_command.h"
#include "cli/backfill_command.h"
#include "cli/common.h"
#include "cli/copy_command.h"
#include "cli/doctor_command.h"
#include "cli/events_command.h"
#include "cli/ingest_command.h"
#include "cli/jobs_command.h"
#include "cli/migrate_command.h"
#include "cli/process_command.h"
#include "cli/queue_command.h"
#include "cli/search_command.h"
#include "cli/serve_command.h"
#include "cli/stages_command.h"
#include "cli/tokens_command.h"
#include "cli/webhooks_command.h"
#include "cli/worker_command.h"
#include "queue/signals.h"

namespace reprise::cli {
namespace {

struct GlobalFlags {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_path;
  std::optional<std::string> log_level;
};

// Every command group's flags and its node in the parsed command line.
struct Commands {
  GlobalFlags global;
  IngestFlags ingest;
  ProcessFlags process;
  WorkerFlags worker;
  ServeFlags serve;
  JobsFlags jobs;
  QueueFlags queue;
  AssetsFlags assets;
  StagesFlags stages;
  TokensFlags tokens;
  WebhooksFlags webhooks;
  EventsFlags events;
  MigrateFlags migrate;
  DoctorFlags doctor;
  CopyFlags copy;
  SearchFlags search;
  CLI::App* ingest_command = nullptr;
  CLI::App* process_command = nullptr;
  CLI::App* worker_command = nullptr;
  CLI::App* serve_command = nullptr;
  CLI::App* jobs_command = nullptr;
  CLI::App* queue_command = nullptr;
  CLI::App* assets_command = nullptr;
  CLI::App* stages_command = nullptr;
  CLI::App* tokens_command = nullptr;
  CLI::App* webhooks_command = nullptr;
  CLI::App* events_command = nullptr;
  CLI::App* migrate_command = nullptr;
  CLI::App* doctor_command = nullptr;
  CLI::App* search_command = nullptr;
  std::shared_ptr<BackfillCommands> backfill;
};

void AddGlobalOptions(CLI::App& cli, GlobalFlags& flags) {
  cli.add_option("--data", flags.data_dir,
                 "Data directory (catalog and blobs; beats the URLs of a --config file, not those "
                 "of the environment) [env REPRISE_DATA, default ./reprise-data]")
      ->type_name("DIR");
  cli.add_option("--config", flags.config_path,
                 "Config file [env REPRISE_CONFIG, default ./reprise.toml or DATA/reprise.toml]")
      ->type_name("FILE");
  cli.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error or off")
      ->type_name("LEVEL");
}

// In the order `--help` lists them.
void AddCommands(CLI::App& cli, Commands& c) {
  AddGlobalOptions(cli, c.global);
  c.ingest_command = AddIngestCommand(cli, c.ingest);
  c.process_command = AddProcessCommand(cli, c.process);
  c.worker_command = AddWorkerCommand(cli, c.worker);
  c.serve_command = AddServeCommand(cli, c.serve);
  c.jobs_command = AddJobsCommand(cli, c.jobs);
  c.queue_command = AddQueueCommand(cli, c.queue);
  c.backfill = AddBackfillCommands(cli);
  c.assets_command = AddAssetsCommand(cli, c.assets);
  c.search_command = AddSearchCommand(cli, c.search);
  c.stages_command = AddStagesCommand(cli, c.stages);
  c.tokens_command = AddTokensCommand(cli, c.tokens);
  c.webhooks_command = AddWebhooksCommand(cli, c.webhooks);
  c.events_command = AddEventsCommand(cli, c.events);
  c.migrate_command = AddMigrateCommand(cli, c.migrate);
  c.doctor_command = AddDoctorCommand(cli, c.doctor);
  AddCopyCommands(cli, c.copy);

  // Set last: subcommands would otherwise inherit it.
  cli.footer(
      "Examples:\n"
      "  reprise ingest ~/Videos ./clip.mp4     add media files and folders\n"
      "  reprise process                        build every due derivative and wait\n"
      "  reprise worker --concurrency 4         run queued jobs until stopped\n"
      "  reprise serve --listen 0.0.0.0:8080    HTTP and a worker pool until stopped\n"
      "  reprise queue                          queue depth, running jobs, quarantine\n"
      "  reprise jobs list --state failed       what failed, and why\n"
      "  reprise jobs retry --failed            queue every failed job again\n"
      "  reprise assets list --kind video       what is in the library\n"
      "  reprise assets show ID                 one asset: metadata and derivatives\n"
      "  reprise assets duplicates              assets whose audio is the same recording\n"
      "  reprise search \"ten meters\"            where words are said, named or shown\n"
      "  reprise stages                         per stage: current/outdated/missing/failed\n"
      "  reprise backfill thumbnail --dry-run   what a backfill would do, and its cost\n"
      "  reprise backfill --all-stages --yes    rebuild whatever is missing or outdated\n"
      "  reprise tokens create --owner alice    a bearer token for the HTTP API\n"
      "  reprise webhooks deliveries 1          a webhook's deliveries and their attempts\n"
      "  reprise events list --type asset.ready what happened, from the event log\n"
      "  reprise migrate status                 the catalog's schema version\n"
      "  reprise catalog copy --from sqlite:catalog.db --to postgres://host/db\n"
      "                                         move the catalog to PostgreSQL, verified\n"
      "\n"
      "Exit codes: 0 all handled (a worker stopped by SIGTERM/SIGINT too), 1 some item\n"
      "failed, was interrupted or is in the wrong state (retrying a running job), 2 bad\n"
      "usage or unknown id, 3 the catalog or blob store cannot be opened (or does not exist:\n"
      "only commands that write create one).\n");
}

// The chosen command runs work in this process, so it watches SIGINT/SIGTERM.
bool RunsWork(const Commands& c) {
  return *c.worker_command || *c.process_command || *c.serve_command || RunsWork(*c.backfill) ||
         (*c.ingest_command && c.ingest.process);
}

// Per-asset info lines would bury the progress bar of these.
bool ShowsProgress(const Commands& c) {
  return *c.ingest_command || *c.process_command || RunsWork(*c.backfill);
}

// Only commands that write may create a catalog; the rest report a missing one, so a
// mistyped path is never taken for an empty library.
bool Writes(const Commands& c) {
  return *c.ingest_command || *c.process_command || *c.worker_command || *c.serve_command ||
         StartsBackfill(*c.backfill) || CreatesToken(c.tokens) || AddsWebhook(c.webhooks);
}

// `signals` is set when RunsWork(c).
int Run(app::App& app, Commands& c, queue::ShutdownSignals* signals) {
  if (*c.ingest_command) return RunIngest(app, c.ingest, signals);
  if (*c.process_command) return RunProcess(app, c.process, *signals);
  if (*c.worker_command) return RunWorker(app, c.worker, *signals);
  if (*c.serve_command) return RunServe(app, c.serve, *signals);
  if (auto code = RunBackfillCommands(app, *c.backfill, signals)) return *code;
  if (*c.jobs_command) return RunJobs(app, c.jobs);
  if (*c.queue_command) return RunQueue(app, c.queue);
  if (*c.assets_command) return RunAssets(app, c.assets);
  if (*c.search_command) return RunSearch(app, c.search);
  if (*c.stages_command) return RunStages(app, c.stages);
  if (*c.tokens_command) return RunTokens(app, c.tokens);
  if (*c.webhooks_command) return RunWebhooks(app, c.webhooks);
  if (*c.events_command) return RunEvents(app, c.events);
  return kExitUsage;
}

int Dispatch(int argc, char** argv) {
  CLI::App cli{
      "reprise: a self-hosted media pipeline that ingests video and audio, builds their\n"
      "derivatives (metadata, thumbnails, ...) and knows which are missing, failed or\n"
      "built by an older recipe, so reprocessing a whole library is one command.\n",
      "reprise"};
  cli.require_subcommand(1);
  cli.set_help_all_flag("--help-all", "Show help for every command");
  Commands c;
  AddCommands(cli, c);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }

  // Before anything starts a thread: every thread must inherit the blocked mask so the
  // signals reach the signalfd (see queue/signals.h).
  std::unique_ptr<queue::ShutdownSignals> signals;
  if (RunsWork(c)) {
    auto watched = queue::ShutdownSignals::Watch();
    if (!watched) return ReportError(watched.error());
    signals = std::move(*watched);
  }

  auto config = LoadConfig({c.global.config_path, c.global.data_dir, ProcessEnvironment()});
  if (!config) return ReportError(config.error());
  for (const auto& warning : config->warnings)
    fmt::print(stderr, "reprise: warning: {}\n", warning);
  if (c.global.log_level) config->log_level = *c.global.log_level;
  auto log = MakeStderrLogger(config->log_level);
  if (!log) return ReportError(log.error());
  if (ShowsProgress(c) && !c.global.log_level && config->log_level == "info") {
    (*log)->set_level(spdlog::level::warn);
  }

  // Before the catalog is opened: opening it applies every migration.
  if (*c.migrate_command) return RunMigrate(*config, c.migrate);
  if (*c.doctor_command) return RunDoctor(*config, c.doctor);
  // Both ends come from the command line, not from the configured library.
  if (CopyChosen(c.copy)) return RunCopy(c.copy);

  auto app = app::App::Open(*config, *log,
                            Writes(c) ? app::App::Access::kCreate : app::App::Access::kExisting);
  if (!app) {
    fmt::print(stderr, "reprise: {}\n", app.error().ToString());
    return app.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitEnvironment;
  }

  return Run(**app, c, signals.get());
}

}  // namespace

int Main(int argc, char** argv) {
  try {
    return Dispatch(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "reprise: internal error: {}\n", e.what());
    return kExitEnvironment;
  }
}

}  // namespace reprise::cli
