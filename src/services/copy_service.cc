#include "services/copy_service.h"

#include <algorithm>

namespace reprise::services {

bool CatalogCopyResult::Verified() const {
  return std::all_of(checks.begin(), checks.end(),
                     [](const catalog::TableCheck& check) { return check.Matches(); });
}

Result<CatalogCopyResult> CopyCatalog(catalog::Catalog& from, catalog::Catalog& to,
                                      const CatalogCopyRequest& request, const Clock& clock,
                                      const catalog::TableCopyProgress& progress) {
  CatalogCopyResult result;
  const int64_t started = clock.MonotonicMicros();
  if (!request.verify_only) {
    auto copied = catalog::CopyTables(from, to, {request.batch_rows}, progress);
    if (!copied) return Fail(std::move(copied.error()));
    result.copied = std::move(*copied);
    for (const auto& table : result.copied) result.rows_copied += table.copied;
  }
  const int64_t copied_at = clock.MonotonicMicros();
  auto checks = catalog::CompareTables(from, to);
  if (!checks) return Fail(std::move(checks.error()));
  result.checks = std::move(*checks);
  result.copy_micros = copied_at - started;
  result.verify_micros = clock.MonotonicMicros() - copied_at;
  return result;
}

nlohmann::json CatalogCopyJson(const CatalogCopyResult& result) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& check : result.checks) {
    nlohmann::json table = {{"table", check.table},
                            {"source_rows", check.source_rows},
                            {"destination_rows", check.destination_rows},
                            {"source_sha256", check.source_sha256},
                            {"destination_sha256", check.destination_sha256},
                            {"match", check.Matches()}};
    for (const auto& copied : result.copied) {
      if (copied.table != check.table) continue;
      table["present_before"] = copied.present;
      table["copied"] = copied.copied;
    }
    tables.push_back(std::move(table));
  }
  return {{"verified", result.Verified()},
          {"rows_copied", result.rows_copied},
          {"copy_seconds", static_cast<double>(result.copy_micros) / 1e6},
          {"verify_seconds", static_cast<double>(result.verify_micros) / 1e6},
          {"tables", std::move(tables)}};
}

Result<BlobCopyResult> CopyBlobs(blob::BlobStore& from, blob::BlobStore& to,
                                 const blob::BlobCopyOptions& options, const Clock& clock,
                                 const blob::BlobCopyProgress& progress) {
  const int64_t started = clock.MonotonicMicros();
  auto report = blob::CopyBlobs(from, to, options, progress);
  if (!report) return Fail(std::move(report.error()));
  return BlobCopyResult{std::move(*report), clock.MonotonicMicros() - started};
}

nlohmann::json BlobCopyJson(const BlobCopyResult& result) {
  const auto& report = result.report;
  return {{"objects", report.objects},
          {"bytes", report.bytes},
          {"copied", report.copied},
          {"copied_bytes", report.copied_bytes},
          {"skipped", report.skipped},
          {"skipped_bytes", report.skipped_bytes},
          {"verified", report.verified},
          {"mismatches", report.mismatches},
          {"mismatched_keys", report.mismatched_keys},
          {"seconds", static_cast<double>(result.micros) / 1e6}};
}

}  // namespace reprise::services
