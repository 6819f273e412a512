#include "cli/copy_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "app/backends/copy_backends.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "services/copy_service.h"

namespace reprise::cli {
namespace {

constexpr int64_t kProgressEveryMicros = 1'000'000;

double PerSecond(int64_t amount, int64_t micros) {
  return micros > 0 ? static_cast<double>(amount) * 1e6 / static_cast<double>(micros) : 0.0;
}

// Opening or refusing is an environment problem (exit 3), unless the usage was wrong.
int ReportOpenError(const Error& error) {
  fmt::print(stderr, "reprise: {}\n", error.ToString());
  return error.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitEnvironment;
}

void PrintChecks(const services::CatalogCopyResult& result) {
  Table table({"TABLE", "SOURCE ROWS", "DEST ROWS", "SOURCE SHA-256", "DEST SHA-256", "MATCH"});
  for (const auto& check : result.checks) {
    table.AddRow({check.table, std::to_string(check.source_rows),
                  std::to_string(check.destination_rows), check.source_sha256.substr(0, 16),
                  check.destination_sha256.substr(0, 16), check.Matches() ? "yes" : "NO"});
  }
  table.Print(stdout);
}

int RunCatalogCopy(const CopyFlags& flags) {
  SystemClock clock;
  auto catalogs = app::OpenCopyCatalogs(flags.from, flags.to, clock);
  if (!catalogs) return ReportOpenError(catalogs.error());
  int64_t last_report = clock.MonotonicMicros();
  auto progress = [&](const std::string& table, int64_t rows) {
    const int64_t now = clock.MonotonicMicros();
    if (now - last_report < kProgressEveryMicros) return;
    last_report = now;
    fmt::print(stderr, "reprise: copying {}: {} rows\n", table, rows);
  };
  services::CatalogCopyRequest request{flags.verify_only, flags.batch_rows};
  auto result = services::CopyCatalog(*catalogs->from, *catalogs->to, request, clock, progress);
  if (!result) {
    return result.error().code == ErrorCode::kConflict ? ReportOpenError(result.error())
                                                       : ReportError(result.error());
  }
  if (flags.json) {
    PrintJson(services::CatalogCopyJson(*result));
  } else {
    if (!flags.verify_only) {
      fmt::print("Copied {} rows from {} to {} in {:.1f} s ({:.0f} rows/s).\n", result->rows_copied,
                 catalogs->from->Describe(), catalogs->to->Describe(),
                 static_cast<double>(result->copy_micros) / 1e6,
                 PerSecond(result->rows_copied, result->copy_micros));
    }
    PrintChecks(*result);
    fmt::print("{}\n", result->Verified() ? "Every table matches: same rows, same checksums."
                                          : "Some tables differ (MATCH = NO).");
  }
  return result->Verified() ? kExitOk : kExitFailures;
}

int RunBlobsCopy(const CopyFlags& flags) {
  SystemClock clock;
  auto stores = app::OpenCopyBlobStores(flags.from, flags.to);
  if (!stores) return ReportOpenError(stores.error());
  int64_t last_report = clock.MonotonicMicros();
  auto progress = [&](const blob::BlobCopyReport& so_far, const std::string&) {
    const int64_t now = clock.MonotonicMicros();
    if (now - last_report < kProgressEveryMicros) return;
    last_report = now;
    fmt::print(stderr, "reprise: {} blobs seen, {} copied ({}), {} already there\n", so_far.objects,
               so_far.copied, HumanBytes(so_far.copied_bytes), so_far.skipped);
  };
  blob::BlobCopyOptions options;
  options.prefix = flags.prefix;
  options.verify = flags.verify;
  auto result = services::CopyBlobs(*stores->from, *stores->to, options, clock, progress);
  if (!result) return ReportError(result.error());
  const auto& report = result->report;
  if (flags.json) {
    PrintJson(services::BlobCopyJson(*result));
  } else {
    fmt::print("{} blobs ({}) in {}: {} copied ({}, {:.1f} MB/s), {} already there ({})\n",
               report.objects, HumanBytes(report.bytes), stores->from->Describe(), report.copied,
               HumanBytes(report.copied_bytes),
               PerSecond(report.copied_bytes, result->micros) / 1e6, report.skipped,
               HumanBytes(report.skipped_bytes));
    if (flags.verify) {
      fmt::print("Verified {} blobs by SHA-256: {} mismatches\n", report.verified,
                 report.mismatches);
      for (const auto& key : report.mismatched_keys) {
        fmt::print("  mismatch (copied again): {}\n", key);
      }
    }
  }
  return report.mismatches == 0 ? kExitOk : kExitFailures;
}

}  // namespace

void AddCopyCommands(CLI::App& cli, CopyFlags& flags) {
  CLI::App* catalog =
      cli.add_subcommand("catalog", "Copy the catalog to another backend (SQLite, PostgreSQL)");
  catalog->require_subcommand(1);
  flags.catalog_copy = catalog->add_subcommand(
      "copy", "Copy every table, ids kept, then compare both sides by counts and checksums");
  flags.catalog_copy->add_flag("--verify-only", flags.verify_only,
                               "Only compare the two catalogs, table by table");
  flags.catalog_copy->add_option("--batch", flags.batch_rows, "Rows per transaction")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000));
  CLI::App* blobs =
      cli.add_subcommand("blobs", "Copy the blob store to another backend (fs:, s3://)");
  blobs->require_subcommand(1);
  flags.blobs_copy = blobs->add_subcommand(
      "copy", "Copy every blob missing from the destination, with its content type");
  flags.blobs_copy->add_flag("--verify", flags.verify,
                             "Read both sides back and compare SHA-256 (copies mismatches again)");
  flags.blobs_copy->add_option("--prefix", flags.prefix, "Only keys starting with this")
      ->type_name("KEY");
  for (CLI::App* command : {flags.catalog_copy, flags.blobs_copy}) {
    command->add_option("--from", flags.from, "Source URL")->type_name("URL")->required();
    command->add_option("--to", flags.to, "Destination URL")->type_name("URL")->required();
    command->add_flag("--json", flags.json, "Print the summary as JSON");
  }
}

bool CopyChosen(const CopyFlags& flags) { return *flags.catalog_copy || *flags.blobs_copy; }

int RunCopy(const CopyFlags& flags) {
  return *flags.catalog_copy ? RunCatalogCopy(flags) : RunBlobsCopy(flags);
}

}  // namespace reprise::cli
