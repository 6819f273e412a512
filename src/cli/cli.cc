#include "cli/cli.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/app.h"
#include "app/views.h"
#include "cli/backfill_command.h"
#include "cli/common.h"
#include "cli/duplicates_command.h"
#include "cli/ingest_command.h"
#include "cli/jobs_command.h"
#include "cli/process_command.h"
#include "cli/queue_command.h"
#include "cli/serve_command.h"
#include "cli/terminal.h"
#include "cli/worker_command.h"
#include "core/clock.h"
#include "queue/signals.h"

namespace reprise::cli {
namespace {

struct GlobalFlags {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_path;
  std::optional<std::string> log_level;
};

std::string Dash(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::string Dimensions(const catalog::MediaSummary& media) {
  if (!media.width || !media.height) return "-";
  return fmt::format("{}x{}", *media.width, *media.height);
}

// ---- assets
// ------------------------------------------------------------------------

struct ListFlags {
  std::optional<std::string> status;
  std::optional<std::string> kind;
  std::optional<std::string> owner;
  int limit = 0;
  bool json = false;
};

Result<catalog::AssetFilter> MakeFilter(const ListFlags& flags) {
  catalog::AssetFilter filter;
  filter.owner = flags.owner;
  if (flags.status) {
    auto status = catalog::ParseAssetStatus(*flags.status);
    if (!status) return Fail(status.error());
    filter.status = *status;
  }
  if (flags.kind) {
    auto kind = catalog::ParseAssetKind(*flags.kind);
    if (!kind) return Fail(kind.error());
    filter.kind = *kind;
  }
  return filter;
}

int RunAssetsList(app::App& app, const ListFlags& flags) {
  auto filter = MakeFilter(flags);
  if (!filter) return ReportError(filter.error());

  // Streams page by page; --json prints one JSON array without holding every
  // asset.
  Table table({"ID", "OWNER", "KIND", "STATUS", "DURATION", "SIZE", "BYTES", "CREATED", "NAME"});
  int64_t shown = 0;
  bool first = true;
  if (flags.json) fmt::print("[");
  catalog::PageRequest page;
  page.limit = 500;
  do {
    if (flags.limit > 0) page.limit = static_cast<int>(std::min<int64_t>(500, flags.limit - shown));
    auto batch = app.catalog().ListAssets(*filter, page);
    if (!batch) return ReportError(batch.error());
    for (const auto& asset : batch->items) {
      if (flags.json) {
        fmt::print("{}\n  {}", first ? "" : ",", app::AssetJson(asset).dump());
        first = false;
      } else {
        table.AddRow({asset.id, asset.owner, std::string(catalog::Name(asset.media.kind)),
                      std::string(catalog::Name(asset.status)),
                      Dash(asset.media.duration_seconds, "{:.2f}s"), Dimensions(asset.media),
                      HumanBytes(asset.size_bytes), FormatRfc3339(asset.created_at).substr(0, 19),
                      asset.original_name});
      }
      ++shown;
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty() && (flags.limit == 0 || shown < flags.limit));
  std::vector<backfill::EmptyCause> causes;
  if (shown == 0) {
    backfill::Selection selection;
    selection.owner = flags.owner;
    selection.status = flags.status;
    selection.kind = flags.kind;
    auto explained = backfill::ExplainEmptySelection(app.catalog(), selection, "");
    if (!explained) return ReportError(explained.error());
    causes = std::move(*explained);
  }
  if (flags.json) {
    fmt::print("{}]\n", first ? "" : "\n");
    // The array stays an array; the reason goes beside it.
    if (!causes.empty())
      fmt::print(stderr, "reprise: {}\n", EmptyCausesText("no assets match", causes));
  } else if (table.empty()) {
    fmt::print("{}\n", EmptyCausesText("No assets match", causes));
  } else {
    table.Print(stdout);
  }
  return kExitOk;
}

struct ShowFlags {
  std::string id;
  std::optional<std::string> owner;
  bool json = false;
};

void PrintStreams(const nlohmann::json& probe) {
  if (!probe.is_object() || !probe.contains("streams")) return;
  Table table({"#", "TYPE", "CODEC", "DETAIL"});
  for (const auto& s : probe["streams"]) {
    std::string detail;
    auto get = [&](const char* key) -> std::string {
      if (!s.contains(key) || s[key].is_null()) return "";
      return s[key].is_string() ? s[key].get<std::string>() : s[key].dump();
    };
    std::string type = get("type");
    if (type == "video") {
      detail = get("width") + "x" + get("height");
      if (!get("frame_rate").empty()) detail += " " + get("frame_rate") + " fps";
      if (!get("pixel_format").empty()) detail += " " + get("pixel_format");
      if (get("rotation") != "0" && !get("rotation").empty())
        detail += " rotation " + get("rotation");
      if (get("attached_picture") == "true") detail += " (cover)";
    } else if (type == "audio") {
      detail = get("sample_rate") + " Hz " + get("channel_layout");
    }
    if (!get("language").empty()) detail += " [" + get("language") + "]";
    table.AddRow({get("index"), type,
                  get("codec") + (get("profile").empty() ? "" : " (" + get("profile") + ")"),
                  detail});
  }
  table.Print(stdout);
}

int RunAssetsShow(app::App& app, const ShowFlags& flags) {
  catalog::AssetFilter scope;
  scope.owner = flags.owner;
  auto asset = app.catalog().GetAsset(flags.id, scope);
  if (!asset) return ReportError(asset.error());
  auto detail = app::AssetDetailJson(app.catalog(), app.registry(), *asset);
  if (!detail) return ReportError(detail.error());
  if (flags.json) {
    PrintJson(*detail);
    return kExitOk;
  }
  const auto& a = *asset;
  fmt::print("Asset {}\n", a.id);
  fmt::print("  owner      {}\n", a.owner);
  fmt::print("  kind       {}\n", catalog::Name(a.media.kind));
  fmt::print("  status     {}\n", catalog::Name(a.status));
  fmt::print("  file       {} ({})\n", a.original_name, HumanBytes(a.size_bytes));
  fmt::print("  source     {} {}\n", catalog::Name(a.source), a.source_uri);
  fmt::print("  container  {}\n", a.media.container.empty() ? "-" : a.media.container);
  fmt::print("  duration   {}\n", Dash(a.media.duration_seconds, "{:.3f} s"));
  fmt::print("  size       {}\n", Dimensions(a.media));
  fmt::print("  sha256     {}\n", a.sha256_hex);
  fmt::print("  cid        {}\n", a.cid);
  fmt::print("  created    {}\n\n", FormatRfc3339(a.created_at));
  PrintStreams((*detail)["probe"]);
  fmt::print("\n");
  Table table({"STAGE", "STATUS", "VERSION", "RECIPE", "LATEST", "OUTPUT", "NOTE"});
  for (const auto& d : (*detail)["derivatives"]) {
    std::string latest = d["latest"].is_null() ? "-" : d["latest"]["state"].get<std::string>();
    std::string output = "-";
    std::string note;
    if (!d["current"].is_null()) {
      output.clear();
      const auto& blobs = d["current"]["blobs"];
      if (blobs.size() <= 3) {
        for (const auto& blob : blobs) {
          output += (output.empty() ? "" : " ") + blob["key"].get<std::string>() + " (" +
                    HumanBytes(blob["size"].get<int64_t>()) + ")";
        }
      } else {
        // Many files (HLS segments): the entry point, the last file written (a
        // master or media playlist), and how many more; --json lists them all.
        int64_t total = 0;
        for (const auto& blob : blobs) total += blob["size"].get<int64_t>();
        output = blobs.back()["key"].get<std::string>() + " + " + std::to_string(blobs.size() - 1) +
                 " files (" + HumanBytes(total) + ")";
      }
      if (output.empty()) output = "metadata";
    }
    if (!d["latest"].is_null()) {
      const auto& l = d["latest"];
      if (l.contains("skip_reason")) note = "skipped: " + l["skip_reason"].get<std::string>();
      if (l.contains("error")) {
        note = "error: " + l["error"]["code"].get<std::string>() + ": " +
               l["error"]["message"].get<std::string>();
      }
      const auto& metadata = l["metadata"];
      if (metadata.is_object() && metadata.contains("libav_warnings")) {
        note += fmt::format("{}libav warnings: {}", note.empty() ? "" : "; ",
                            metadata["libav_warnings"].dump());
      }
    }
    table.AddRow({d["stage"].get<std::string>(), d["status"].get<std::string>(),
                  std::to_string(d["version"].get<int>()), d["recipe"].get<std::string>(), latest,
                  output, note});
  }
  table.Print(stdout);
  return kExitOk;
}

// ---- stages
// ------------------------------------------------------------------------

int RunStages(app::App& app, const std::optional<std::string>& owner, bool json) {
  catalog::AssetFilter filter;
  filter.owner = owner;
  auto doc = app::StagesJson(app.catalog(), app.registry(), filter);
  if (!doc) return ReportError(doc.error());
  if (json) {
    PrintJson(*doc);
    return kExitOk;
  }
  Table table({"STAGE", "VERSION", "RECIPE", "CURRENT", "OUTDATED", "MISSING", "FAILED", "SKIPPED",
               "QUARANTINED", "PARAMS"});
  for (const auto& s : *doc) {
    const auto& c = s["counts"];
    table.AddRow({s["name"].get<std::string>(), std::to_string(s["version"].get<int>()),
                  s["recipe"].get<std::string>(), c["current"].dump(), c["outdated"].dump(),
                  c["missing"].dump(), c["failed"].dump(), c["skipped"].dump(),
                  c["quarantined"].dump(), s["params"].dump()});
  }
  table.Print(stdout);
  return kExitOk;
}

// ---- main
// --------------------------------------------------------------------------

int Dispatch(int argc, char** argv) {
  CLI::App cli{
      "reprise: a self-hosted media pipeline that ingests video and "
      "audio, builds their\n"
      "derivatives (metadata, thumbnails, ...) and knows which are "
      "missing, failed or\n"
      "built by an older recipe, so reprocessing a whole library is "
      "one command.\n",
      "reprise"};
  cli.require_subcommand(1);
  cli.set_help_all_flag("--help-all", "Show help for every command");
  GlobalFlags global;
  cli.add_option("--data", global.data_dir,
                 "Data directory (catalog and blobs; beats the URLs of a --config "
                 "file, not those "
                 "of the environment) [env REPRISE_DATA, default ./reprise-data]")
      ->type_name("DIR");
  cli.add_option("--config", global.config_path,
                 "Config file [env REPRISE_CONFIG, default ./reprise.toml or "
                 "DATA/reprise.toml]")
      ->type_name("FILE");
  cli.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off")
      ->type_name("LEVEL");

  IngestFlags ingest_flags;
  auto* ingest_cmd = AddIngestCommand(cli, ingest_flags);
  ProcessFlags process_flags;
  auto* process_cmd = AddProcessCommand(cli, process_flags);

  WorkerFlags worker_flags;
  auto* worker_cmd = AddWorkerCommand(cli, worker_flags);
  ServeFlags serve_flags;
  auto* serve_cmd = AddServeCommand(cli, serve_flags);

  JobsFlags jobs_flags;
  auto* jobs_cmd = AddJobsCommand(cli, jobs_flags);
  QueueFlags queue_flags;
  auto* queue_cmd = AddQueueCommand(cli, queue_flags);

  auto backfill_cmds = AddBackfillCommands(cli);

  auto* assets_cmd = cli.add_subcommand("assets", "List and inspect assets");
  assets_cmd->require_subcommand(1);
  ListFlags list_flags;
  auto* list_cmd = assets_cmd->add_subcommand("list", "List assets, oldest first");
  list_cmd->add_option("--status", list_flags.status, "pending, processing, ready or failed");
  list_cmd->add_option("--kind", list_flags.kind, "video, audio or image");
  list_cmd->add_option("--owner", list_flags.owner, "Only this owner's assets")->type_name("ID");
  list_cmd->add_option("--limit", list_flags.limit, "Show at most N assets")
      ->check(CLI::NonNegativeNumber);
  list_cmd->add_flag("--json", list_flags.json, "Print a JSON array");
  ShowFlags show_flags;
  auto* show_cmd = assets_cmd->add_subcommand("show", "Show one asset with its derivatives");
  show_cmd->add_option("id", show_flags.id, "Asset id")->required();
  show_cmd->add_option("--owner", show_flags.owner, "Only if it belongs to this owner");
  show_cmd->add_flag("--json", show_flags.json, "Print JSON");
  DuplicatesFlags duplicates_flags;
  auto* duplicates_cmd = AddDuplicatesCommand(*assets_cmd, duplicates_flags);

  std::optional<std::string> stages_owner;
  bool stages_json = false;
  auto* stages_cmd =
      cli.add_subcommand("stages", "Each stage with its recipe and how many assets are current");
  stages_cmd->add_option("--owner", stages_owner, "Count only this owner's assets");
  stages_cmd->add_flag("--json", stages_json, "Print JSON");

  // Set last: subcommands would otherwise inherit it.
  cli.footer(
      "Examples:\n"
      "  reprise ingest ~/Videos ./clip.mp4     add media files and folders\n"
      "  reprise process                        build every due derivative and "
      "wait\n"
      "  reprise worker --concurrency 4         run queued jobs until stopped\n"
      "  reprise serve --listen 0.0.0.0:8080    HTTP and a worker pool until "
      "stopped\n"
      "  reprise queue                          queue depth, running jobs, "
      "quarantine\n"
      "  reprise jobs list --state failed       what failed, and why\n"
      "  reprise jobs retry --failed            queue every failed job again\n"
      "  reprise assets list --kind video       what is in the library\n"
      "  reprise assets show ID                 one asset: metadata and "
      "derivatives\n"
      "  reprise assets duplicates              assets whose audio is the same "
      "recording\n"
      "  reprise stages                         per stage: "
      "current/outdated/missing/failed\n"
      "  reprise backfill thumbnail --dry-run   what a backfill would do, and "
      "its cost\n"
      "  reprise backfill --all-stages --yes    rebuild whatever is missing or "
      "outdated\n"
      "\n"
      "Exit codes: 0 all handled (a worker stopped by SIGTERM/SIGINT too), 1 "
      "some item\n"
      "failed, was interrupted or is in the wrong state (retrying a running "
      "job), 2 bad\n"
      "usage or unknown id, 3 the catalog or blob store cannot be opened (or "
      "does not exist:\n"
      "only commands that write create one).\n");

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

  // Before anything starts a thread: every thread must inherit the blocked mask
  // so the signals reach the signalfd (see queue/signals.h).
  std::unique_ptr<queue::ShutdownSignals> signals;
  if (*worker_cmd || *process_cmd || *serve_cmd || RunsWork(*backfill_cmds) ||
      (*ingest_cmd && ingest_flags.process)) {
    auto watched = queue::ShutdownSignals::Watch();
    if (!watched) return ReportError(watched.error());
    signals = std::move(*watched);
  }

  auto config = LoadConfig({global.config_path, global.data_dir, ProcessEnvironment()});
  if (!config) return ReportError(config.error());
  for (const auto& warning : config->warnings)
    fmt::print(stderr, "reprise: warning: {}\n", warning);
  if (global.log_level) config->log_level = *global.log_level;
  auto log = MakeStderrLogger(config->log_level);
  if (!log) return ReportError(log.error());
  // Per-asset info lines would bury the progress bar; warnings still show,
  // above it.
  if ((*ingest_cmd || *process_cmd || RunsWork(*backfill_cmds)) && !global.log_level &&
      config->log_level == "info") {
    (*log)->set_level(spdlog::level::warn);
  }

  // Only commands that write may create a catalog; the rest report a missing
  // one, so a mistyped path is never taken for an empty library.
  bool writes =
      *ingest_cmd || *process_cmd || *worker_cmd || *serve_cmd || StartsBackfill(*backfill_cmds);
  auto app = app::App::Open(*config, *log,
                            writes ? app::App::Access::kCreate : app::App::Access::kExisting);
  if (!app) {
    fmt::print(stderr, "reprise: {}\n", app.error().ToString());
    return app.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitEnvironment;
  }

  if (*ingest_cmd) return RunIngest(**app, ingest_flags, signals.get());
  if (*process_cmd) return RunProcess(**app, process_flags, *signals);
  if (*worker_cmd) return RunWorker(**app, worker_flags, *signals);
  if (*serve_cmd) return RunServe(**app, serve_flags, *signals);
  if (auto code = RunBackfillCommands(**app, *backfill_cmds, signals.get())) return *code;
  if (*jobs_cmd) return RunJobs(**app, jobs_flags);
  if (*queue_cmd) return RunQueue(**app, queue_flags);
  if (*list_cmd) return RunAssetsList(**app, list_flags);
  if (*show_cmd) return RunAssetsShow(**app, show_flags);
  if (*duplicates_cmd) return RunDuplicates(**app, duplicates_flags);
  if (*stages_cmd) return RunStages(**app, stages_owner, stages_json);
  return kExitUsage;
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
