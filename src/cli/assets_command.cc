#include "cli/assets_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/terminal.h"
#include "services/views.h"

namespace reprise::cli {
namespace {

std::string Dash(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::string Dimensions(const catalog::MediaSummary& media) {
  if (!media.width || !media.height) return "-";
  return fmt::format("{}x{}", *media.width, *media.height);
}

int RunAssetsList(app::App& app, const AssetsListFlags& flags) {
  // Streams page by page; --json prints one JSON array without holding every asset.
  Table table({"ID", "OWNER", "KIND", "STATUS", "DURATION", "SIZE", "BYTES", "CREATED", "NAME"});
  bool first = true;
  auto scan = app.assets().Scan(
      services::Caller::Admin("cli"), flags.selection, flags.limit,
      [&](const catalog::Asset& asset) {
        if (flags.json) {
          fmt::print("{}\n  {}", first ? "[" : ",", services::AssetJson(asset).dump());
          first = false;
          return;
        }
        table.AddRow({asset.id, asset.owner, std::string(catalog::Name(asset.media.kind)),
                      std::string(catalog::Name(asset.status)),
                      Dash(asset.media.duration_seconds, "{:.2f}s"), Dimensions(asset.media),
                      HumanBytes(asset.size_bytes), FormatRfc3339(asset.created_at).substr(0, 19),
                      asset.original_name});
      });
  if (!scan) return ReportError(scan.error());
  if (flags.json) {
    fmt::print("{}]\n", first ? "[" : "\n");
    // The array stays an array; the reason goes beside it.
    if (!scan->empty.empty())
      fmt::print(stderr, "reprise: {}\n", EmptyCausesText("no assets match", scan->empty));
  } else if (table.empty()) {
    fmt::print("{}\n", EmptyCausesText("No assets match", scan->empty));
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
  auto detail = app.assets().Show(services::Caller::Admin("cli"), flags.id, flags.owner);
  if (!detail) return ReportError(detail.error());
  if (flags.json) {
    PrintJson(detail->json);
    return kExitOk;
  }
  const auto& a = detail->asset;
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
  PrintStreams(detail->json["probe"]);
  fmt::print("\n");
  PrintDerivatives(detail->json["derivatives"]);
  return kExitOk;
}

int RunAssetsDelete(app::App& app, const AssetsDeleteFlags& flags) {
  auto deleted = app.assets().Delete(services::Caller::Admin("cli"), flags.id, flags.owner);
  if (!deleted) return ReportError(deleted.error());
  if (flags.json) {
    PrintJson(services::DeletedAssetJson(*deleted));
  } else {
    fmt::print(
        "Deleted asset {} and {} file(s){}.\n", deleted->id, deleted->blobs_deleted,
        deleted->original_kept ? " (the original stays: another asset has the same content)" : "");
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddAssetsCommand(CLI::App& cli, AssetsFlags& flags) {
  auto* command = cli.add_subcommand("assets", "List and inspect assets");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "List assets, oldest first");
  auto& selection = flags.list.selection;
  list->add_option("--status", selection.status, "pending, processing, ready or failed");
  list->add_option("--kind", selection.kind, "video, audio or image");
  list->add_option("--owner", selection.owner, "Only this owner's assets")->type_name("ID");
  list->add_option("--source", selection.source, "upload, url, webhook or scan");
  list->add_option("--created-after", selection.created_after,
                   "Created at or after (RFC 3339 or date)")
      ->type_name("TIME");
  list->add_option("--created-before", selection.created_before,
                   "Created before (RFC 3339 or date)")
      ->type_name("TIME");
  list->add_option("--where", selection.where, "Probe metadata and tags (docs/WHERE.md)")
      ->type_name("EXPR");
  list->add_option("--limit", flags.list.limit, "Show at most N assets")
      ->check(CLI::NonNegativeNumber);
  list->add_flag("--json", flags.list.json, "Print a JSON array");
  auto* show = command->add_subcommand("show", "Show one asset with its derivatives");
  show->add_option("id", flags.show.id, "Asset id")->required();
  show->add_option("--owner", flags.show.owner, "Only if it belongs to this owner");
  show->add_flag("--json", flags.show.json, "Print JSON");
  auto* remove = command->add_subcommand(
      "delete", "Delete an asset, its derivatives and jobs, and its files (refused while it runs)");
  remove->add_option("id", flags.remove.id, "Asset id")->required();
  remove->add_option("--owner", flags.remove.owner, "Only if it belongs to this owner")
      ->type_name("ID");
  remove->add_flag("--json", flags.remove.json, "Print JSON");
  flags.duplicates_command = AddDuplicatesCommand(*command, flags.duplicates);
  flags.list_command = list;
  flags.show_command = show;
  flags.delete_command = remove;
  return command;
}

int RunAssets(app::App& app, const AssetsFlags& flags) {
  if (flags.list_command->parsed()) return RunAssetsList(app, flags.list);
  if (flags.show_command->parsed()) return RunAssetsShow(app, flags.show);
  if (flags.delete_command->parsed()) return RunAssetsDelete(app, flags.remove);
  if (flags.duplicates_command->parsed()) return RunDuplicates(app, flags.duplicates);
  return kExitUsage;
}

}  // namespace reprise::cli
