#include "cli/ingest_command.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "app/views.h"
#include "cli/common.h"
#include "cli/process_command.h"
#include "cli/terminal.h"

namespace reprise::cli {
namespace {

// --process: what `reprise process` does, on the assets this ingest brings (new or
// already there), started file by file: each asset's due stages are enqueued as soon
// as it is stored, so the pool works while the next files are still being copied.
// The session enqueues them, not the ingest transaction; a crash in between leaves
// the asset with missing derivatives, which `process` or a backfill finds.
// A first SIGINT/SIGTERM while files are still being copied stops the ingest after the
// current file and is then handed to the session, which stops its pool gracefully.
struct Processing {
  bool stop_pending = false;  // outlives the session, whose interrupt check reads it
  std::unique_ptr<queue::ProcessSession> session;
  std::optional<Error> session_error;
};

// Begins the session and hooks it into `options`; `processing` must outlive the ingest.
Result<void> BeginProcessing(app::App& app, queue::ShutdownSignals& signals, Processing& processing,
                             ingest::Options& options) {
  options.stop_requested = [&processing, &signals] {
    processing.stop_pending = processing.stop_pending || signals.Wait(0) != 0;
    return processing.stop_pending;
  };
  queue::ProcessOptions process;
  process.max_attempts = app.config().queue.max_attempts;
  process.interrupted = [&processing, more = Interrupted(signals)] {
    if (processing.stop_pending) {
      processing.stop_pending = false;
      return true;
    }
    return more();
  };
  auto begun = app.processor().Begin(process);
  if (!begun) return Fail(begun.error());
  processing.session = std::move(*begun);
  options.job = {};
  options.on_item = [&processing, owner = options.owner](const ingest::ItemResult& item) {
    if (!item.asset || processing.session_error) return;
    catalog::AssetFilter filter;
    filter.owner = owner;
    filter.ids = {item.asset->id};
    if (auto added = processing.session->Add(filter); !added) {
      processing.session_error = added.error();
    }
  };
  return {};
}

void PrintSummary(const ingest::Summary& summary) {
  if (summary.items.size() <= 50) {
    // The SHA-256 shortened (--json and `assets show` have it whole), the CID whole.
    Table table({"RESULT", "ASSET", "KIND", "SIZE", "SHA-256", "CID", "FILE"});
    for (const auto& item : summary.items) {
      std::string result(ingest::Name(item.outcome));
      if (item.outcome == ingest::Outcome::kSkipped) result += " (" + item.skip_reason + ")";
      const catalog::Asset* asset = item.asset ? &*item.asset : nullptr;
      table.AddRow({result, asset ? asset->id : "-",
                    asset ? std::string(catalog::Name(asset->media.kind)) : "-",
                    item.bytes > 0 ? HumanBytes(item.bytes) : "-",
                    asset ? asset->sha256_hex.substr(0, 12) : "-", asset ? asset->cid : "-",
                    item.path});
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
  if (summary.not_started > 0) {
    fmt::print(stderr, "interrupted: {} file(s) not ingested\n", summary.not_started);
  }
}

}  // namespace

CLI::App* AddIngestCommand(CLI::App& cli, IngestFlags& flags) {
  auto* command = cli.add_subcommand("ingest", "Add media files and folders (recursively)");
  command->add_option("paths", flags.paths, "Files or directories")->required();
  command->add_option("--owner", flags.owner, "Owner of the new assets [config owner]")
      ->type_name("ID");
  command->add_flag("--process", flags.process,
                    "Then build their due derivatives and wait, as `process` does");
  command->add_flag("--json", flags.json, "Print the result as JSON");
  return command;
}

int RunIngest(app::App& app, const IngestFlags& flags, queue::ShutdownSignals* signals) {
  ingest::Options options;
  options.owner = flags.owner.value_or(app.config().owner);
  options.source = catalog::AssetSource::kScan;
  options.max_file_bytes = app.config().max_ingest_bytes;
  options.job = app.IngestJob();

  Processing processing;
  if (flags.process) {
    if (auto begun = BeginProcessing(app, *signals, processing, options); !begun) {
      return ReportError(begun.error());
    }
  }

  ProgressBar bar(stdout, app.log());
  auto summary = app.ingestor().IngestPaths(flags.paths, options, [&](const ingest::Progress& p) {
    if (flags.json) return;
    std::string name = p.current.substr(p.current.find_last_of('/') + 1);
    bar.Update(
        p.files_done, p.files_total,
        fmt::format("files  {}/{}  {}", HumanBytes(p.bytes_done), HumanBytes(p.bytes_total), name));
  });
  bar.Clear();

  int ingest_code = summary.errors > 0 ? kExitFailures : kExitOk;
  nlohmann::json ingest_json = flags.json ? app::IngestSummaryJson(summary) : nlohmann::json();
  if (!flags.json) PrintSummary(summary);
  if (!flags.process) {
    if (flags.json) PrintJson(ingest_json);
    return ingest_code;
  }

  if (processing.session_error) return ReportError(*processing.session_error);
  nlohmann::json process_json;
  if (!flags.json) fmt::print("\n");
  int process_code = WaitAndReport(*processing.session, app.log(), flags.json, &process_json);
  if (flags.json) PrintJson({{"ingest", ingest_json}, {"process", process_json}});
  return std::max(ingest_code, process_code);
}

}  // namespace reprise::cli
