#include "cli/assets_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "app/views.h"
#include "backfill/empty_selection.h"
#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {
namespace {

std::string Dash(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::string Dimensions(const catalog::MediaSummary& media) {
  if (!media.width || !media.height) return "-";
  return fmt::format("{}x{}", *media.width, *media.height);
}

Result<catalog::AssetFilter> MakeFilter(const AssetsListFlags& flags) {
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

int RunAssetsList(app::App& app, const AssetsListFlags& flags) {
  auto filter = MakeFilter(flags);
  if (!filter) return ReportError(filter.error());

  // Streams page by page; --json prints one JSON array without holding every asset.
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

// One row of the derivatives table of `assets show`, from its JSON detail.
std::vector<std::string> DerivativeRow(const nlohmann::json& d) {
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
      // Many files (HLS segments): the entry point, the last file written (a master
      // or media playlist), and how many more; --json lists them all.
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
  return {d["stage"].get<std::string>(),
          d["status"].get<std::string>(),
          std::to_string(d["version"].get<int>()),
          d["recipe"].get<std::string>(),
          latest,
          output,
          note};
}

void PrintDerivatives(const nlohmann::json& derivatives) {
  Table table({"STAGE", "STATUS", "VERSION", "RECIPE", "LATEST", "OUTPUT", "NOTE"});
  for (const auto& d : derivatives) table.AddRow(DerivativeRow(d));
  table.Print(stdout);
}

int RunAssetsShow(app::App& app, const AssetsShowFlags& flags) {
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
  PrintDerivatives((*detail)["derivatives"]);
  return kExitOk;
}

}  // namespace

CLI::App* AddAssetsCommand(CLI::App& cli, AssetsFlags& flags) {
  auto* command = cli.add_subcommand("assets", "List and inspect assets");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "List assets, oldest first");
  list->add_option("--status", flags.list.status, "pending, processing, ready or failed");
  list->add_option("--kind", flags.list.kind, "video, audio or image");
  list->add_option("--owner", flags.list.owner, "Only this owner's assets")->type_name("ID");
  list->add_option("--limit", flags.list.limit, "Show at most N assets")
      ->check(CLI::NonNegativeNumber);
  list->add_flag("--json", flags.list.json, "Print a JSON array");
  auto* show = command->add_subcommand("show", "Show one asset with its derivatives");
  show->add_option("id", flags.show.id, "Asset id")->required();
  show->add_option("--owner", flags.show.owner, "Only if it belongs to this owner");
  show->add_flag("--json", flags.show.json, "Print JSON");
  flags.duplicates_command = AddDuplicatesCommand(*command, flags.duplicates);
  flags.list_command = list;
  flags.show_command = show;
  return command;
}

int RunAssets(app::App& app, const AssetsFlags& flags) {
  if (flags.list_command->parsed()) return RunAssetsList(app, flags.list);
  if (flags.show_command->parsed()) return RunAssetsShow(app, flags.show);
  if (flags.duplicates_command->parsed()) return RunDuplicates(app, flags.duplicates);
  return kExitUsage;
}

}  // namespace reprise::cli
