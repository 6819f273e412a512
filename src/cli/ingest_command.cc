#include "cli/ingest_command.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/process_command.h"
#include "cli/terminal.h"
#include "services/views.h"

namespace reprise::cli {
namespace {

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
  services::IngestRequest request;
  request.paths = flags.paths;
  request.owner = flags.owner;
  request.process = flags.process;
  if (flags.process) request.stop_signal = Interrupted(*signals);
  ProgressBar bar(stdout, app.log());
  request.on_progress = [&](const ingest::Progress& p) {
    if (flags.json) return;
    std::string name = p.current.substr(p.current.find_last_of('/') + 1);
    bar.Update(
        p.files_done, p.files_total,
        fmt::format("files  {}/{}  {}", HumanBytes(p.bytes_done), HumanBytes(p.bytes_total), name));
  };
  auto outcome = app.ingest().Ingest(services::Caller::Admin("cli"), request);
  bar.Clear();
  if (!outcome) return ReportError(outcome.error());
  const auto& summary = outcome->summary;

  int ingest_code = summary.errors > 0 ? kExitFailures : kExitOk;
  nlohmann::json ingest_json = flags.json ? services::IngestSummaryJson(summary) : nlohmann::json();
  if (!flags.json) PrintSummary(summary);
  if (!flags.process) {
    if (flags.json) PrintJson(ingest_json);
    return ingest_code;
  }

  if (outcome->process_error) return ReportError(*outcome->process_error);
  nlohmann::json process_json;
  if (!flags.json) fmt::print("\n");
  int process_code = WaitAndReport(*outcome->session, app.log(), flags.json, &process_json);
  if (flags.json) PrintJson({{"ingest", ingest_json}, {"process", process_json}});
  return std::max(ingest_code, process_code);
}

}  // namespace reprise::cli
