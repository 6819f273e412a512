#include "cli/cli.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/app.h"
#include "app/views.h"
#include "cli/terminal.h"
#include "core/clock.h"

namespace reprise::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailures = 1;
constexpr int kExitUsage = 2;
constexpr int kExitEnvironment = 3;

struct GlobalFlags {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_path;
  std::optional<std::string> log_level;
};

void PrintJson(const nlohmann::json& doc) { fmt::print("{}\n", doc.dump(2)); }

int ReportError(const Error& error) {
  fmt::print(stderr, "reprise: {}\n", error.ToString());
  return error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kNotFound
             ? kExitUsage
             : kExitEnvironment;
}

std::string Dash(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::string Dimensions(const catalog::MediaSummary& media) {
  if (!media.width || !media.height) return "-";
  return fmt::format("{}x{}", *media.width, *media.height);
}

// ---- ingest ------------------------------------------------------------------------

struct IngestFlags {
  std::vector<std::string> paths;
  std::optional<std::string> owner;
  bool json = false;
};

int RunIngest(app::App& app, const IngestFlags& flags) {
  ingest::Options options;
  options.owner = flags.owner.value_or(app.config().owner);
  options.source = catalog::AssetSource::kScan;
  options.max_file_bytes = app.config().max_ingest_bytes;

  ProgressBar bar(stdout);
  auto summary = app.ingestor().IngestPaths(flags.paths, options, [&](const ingest::Progress& p) {
    if (flags.json) return;
    std::string name = p.current.substr(p.current.find_last_of('/') + 1);
    bar.Update(
        p.files_done, p.files_total,
        fmt::format("files  {}/{}  {}", HumanBytes(p.bytes_done), HumanBytes(p.bytes_total), name));
  });
  bar.Clear();

  if (flags.json) {
    PrintJson(app::IngestSummaryJson(summary));
  } else {
    if (summary.items.size() <= 50) {
      Table table({"RESULT", "ASSET", "KIND", "SIZE", "FILE"});
      for (const auto& item : summary.items) {
        std::string result(ingest::Name(item.outcome));
        if (item.outcome == ingest::Outcome::kSkipped) result += " (" + item.skip_reason + ")";
        table.AddRow({result, item.asset ? item.asset->id : "-",
                      item.asset ? std::string(catalog::Name(item.asset->media.kind)) : "-",
                      item.bytes > 0 ? HumanBytes(item.bytes) : "-", item.path});
      }
      if (!table.empty()) table.Print(stdout);
      fmt::print("\n");
    }
    std::string skipped;
    for (const auto& [reason, count] : summary.skipped) {
      skipped += fmt::format("{}{}: {}", skipped.empty() ? "  (" : ", ", reason, count);
    }
    if (!skipped.empty()) skipped += ")";
    fmt::print("Ingest summary\n");
    fmt::print("  added            {}\n", summary.added);
    fmt::print("  already existed  {}\n", summary.existed);
    fmt::print("  skipped          {}{}\n", summary.SkippedTotal(), skipped);
    fmt::print("  errors           {}\n", summary.errors);
    fmt::print("  total bytes      {}\n", HumanBytes(summary.bytes));
    fmt::print("  elapsed          {}\n", HumanSeconds(summary.elapsed_seconds));
    for (const auto& item : summary.items) {
      if (item.error) fmt::print(stderr, "error: {}: {}\n", item.path, item.error->ToString());
    }
  }
  return summary.errors > 0 ? kExitFailures : kExitOk;
}

// ---- process -----------------------------------------------------------------------

struct ProcessFlags {
  std::vector<std::string> stages;
  std::optional<std::string> owner;
  bool retry_failed = false;
  bool json = false;
};

int RunProcess(app::App& app, const ProcessFlags& flags) {
  queue::ProcessOptions options;
  options.stages = flags.stages;
  options.filter.owner = flags.owner;
  options.retry_failed = flags.retry_failed;

  ProgressBar bar(stdout);
  auto summary = app.processor().Run(options, [&](const queue::ProcessProgress& p) {
    if (!flags.json) {
      bar.Update(p.assets_done, p.assets_total, fmt::format("assets  {} failed", p.failures));
    }
  });
  bar.Clear();
  if (!summary) return ReportError(summary.error());

  if (flags.json) {
    PrintJson(app::ProcessSummaryJson(*summary));
  } else {
    fmt::print("Processed {} of {} asset(s) with due stages in {}\n", summary->assets_run,
               summary->assets_seen, HumanSeconds(summary->elapsed_seconds));
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
    for (const auto& failure : summary->failures) {
      fmt::print(stderr, "failed: asset {} stage {}: {}\n", failure.asset_id, failure.stage,
                 failure.error.ToString());
    }
  }
  return summary->failures.empty() ? kExitOk : kExitFailures;
}

// ---- assets ------------------------------------------------------------------------

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

  // Streams page by page; --json prints one JSON array without holding every asset.
  Table table({"ID", "KIND", "STATUS", "DURATION", "SIZE", "BYTES", "CREATED", "NAME"});
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
        table.AddRow({asset.id, std::string(catalog::Name(asset.media.kind)),
                      std::string(catalog::Name(asset.status)),
                      Dash(asset.media.duration_seconds, "{:.2f}s"), Dimensions(asset.media),
                      HumanBytes(asset.size_bytes), FormatRfc3339(asset.created_at).substr(0, 19),
                      asset.original_name});
      }
      ++shown;
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty() && (flags.limit == 0 || shown < flags.limit));
  if (flags.json) {
    fmt::print("{}]\n", first ? "" : "\n");
  } else if (table.empty()) {
    fmt::print("No assets match.\n");
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
      for (const auto& blob : d["current"]["blobs"]) {
        output += (output.empty() ? "" : " ") + blob["key"].get<std::string>() + " (" +
                  HumanBytes(blob["size"].get<int64_t>()) + ")";
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
    }
    table.AddRow({d["stage"].get<std::string>(), d["status"].get<std::string>(),
                  std::to_string(d["version"].get<int>()), d["recipe"].get<std::string>(), latest,
                  output, note});
  }
  table.Print(stdout);
  return kExitOk;
}

// ---- stages ------------------------------------------------------------------------

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
               "PARAMS"});
  for (const auto& s : *doc) {
    const auto& c = s["counts"];
    table.AddRow({s["name"].get<std::string>(), std::to_string(s["version"].get<int>()),
                  s["recipe"].get<std::string>(), c["current"].dump(), c["outdated"].dump(),
                  c["missing"].dump(), c["failed"].dump(), c["skipped"].dump(),
                  s["params"].dump()});
  }
  table.Print(stdout);
  return kExitOk;
}

// ---- main --------------------------------------------------------------------------

int Dispatch(int argc, char** argv) {
  CLI::App cli{
      "reprise: a self-hosted media pipeline that ingests video and audio, builds their\n"
      "derivatives (metadata, thumbnails, ...) and knows which are missing, failed or\n"
      "built by an older recipe, so reprocessing a whole library is one command.\n",
      "reprise"};
  cli.require_subcommand(1);
  cli.set_help_all_flag("--help-all", "Show help for every command");
  GlobalFlags global;
  cli.add_option("--data", global.data_dir,
                 "Data directory (catalog and blobs) [env REPRISE_DATA, default ./reprise-data]")
      ->type_name("DIR");
  cli.add_option("--config", global.config_path,
                 "Config file [env REPRISE_CONFIG, default ./reprise.toml or DATA/reprise.toml]")
      ->type_name("FILE");
  cli.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off")
      ->type_name("LEVEL");

  IngestFlags ingest_flags;
  auto* ingest_cmd = cli.add_subcommand("ingest", "Add media files and folders (recursively)");
  ingest_cmd->add_option("paths", ingest_flags.paths, "Files or directories")->required();
  ingest_cmd->add_option("--owner", ingest_flags.owner, "Owner of the new assets [config owner]")
      ->type_name("ID");
  ingest_cmd->add_flag("--json", ingest_flags.json, "Print the result as JSON");

  ProcessFlags process_flags;
  auto* process_cmd = cli.add_subcommand("process", "Run the due stages on every asset");
  process_cmd->add_option("--stage", process_flags.stages, "Only these stages (repeatable)");
  process_cmd->add_option("--owner", process_flags.owner, "Only this owner's assets")
      ->type_name("ID");
  process_cmd->add_flag("--retry-failed", process_flags.retry_failed,
                        "Also rerun stages whose last attempt failed");
  process_cmd->add_flag("--json", process_flags.json, "Print the summary as JSON");

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
      "  reprise process                        build every due derivative\n"
      "  reprise assets list --kind video       what is in the library\n"
      "  reprise assets show ID                 one asset: metadata and derivatives\n"
      "  reprise stages                         per stage: current/outdated/missing/failed\n"
      "\n"
      "Exit codes: 0 all handled, 1 some item failed, 2 bad usage or unknown id,\n"
      "3 the catalog or blob store cannot be opened.\n");

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

  auto config = LoadConfig({global.config_path, global.data_dir, ProcessEnvironment()});
  if (!config) return ReportError(config.error());
  if (global.log_level) config->log_level = *global.log_level;
  auto log = MakeStderrLogger(config->log_level);
  if (!log) return ReportError(log.error());
  // Per-asset logs would interleave with the progress bar; warnings still show.
  if ((*ingest_cmd || *process_cmd) && !global.log_level && config->log_level == "info") {
    (*log)->set_level(spdlog::level::warn);
  }

  auto app = app::App::Open(*config, *log);
  if (!app) {
    fmt::print(stderr, "reprise: {}\n", app.error().ToString());
    return app.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitEnvironment;
  }

  if (*ingest_cmd) return RunIngest(**app, ingest_flags);
  if (*process_cmd) return RunProcess(**app, process_flags);
  if (*list_cmd) return RunAssetsList(**app, list_flags);
  if (*show_cmd) return RunAssetsShow(**app, show_flags);
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
