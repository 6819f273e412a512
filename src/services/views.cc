#include "services/views.h"

#include "core/clock.h"
#include "core/error_json.h"
#include "queue/executor.h"

namespace reprise::services {
namespace {

nlohmann::json OptionalJson(const auto& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json TimeJson(int64_t micros) {
  return micros > 0 ? nlohmann::json(FormatRfc3339(micros)) : nlohmann::json(nullptr);
}

// Adds the signed "url" of the file whose "key" `file` holds.
Result<void> AddUrl(nlohmann::json& file, const SignUrl& sign) {
  auto url = sign(file["key"].get<std::string>());
  if (!url) return Fail(url.error());
  file["url"] = std::move(*url);
  return {};
}

}  // namespace

nlohmann::json PageJson(nlohmann::json items, const std::string& next_cursor,
                        const std::vector<backfill::EmptyCause>& empty) {
  nlohmann::json out = {
      {"items", std::move(items)},
      {"next_cursor", next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(next_cursor)}};
  if (!empty.empty()) out["empty_selection"] = backfill::EmptyCausesJson(empty);
  return out;
}

nlohmann::json AssetJson(const catalog::Asset& asset) {
  return {
      {"id", asset.id},
      {"owner", asset.owner},
      {"kind", catalog::Name(asset.media.kind)},
      {"source", catalog::Name(asset.source)},
      {"status", catalog::Name(asset.status)},
      {"sha256", asset.sha256_hex},
      {"cid", asset.cid},
      {"size_bytes", asset.size_bytes},
      {"original",
       {{"key", asset.original_key},
        {"name", asset.original_name},
        {"source_uri", asset.source_uri}}},
      {"container", asset.media.container},
      {"duration_seconds", OptionalJson(asset.media.duration_seconds)},
      {"width", OptionalJson(asset.media.width)},
      {"height", OptionalJson(asset.media.height)},
      {"parent_id", OptionalJson(asset.parent_id)},
      {"refs", asset.refs},
      {"created_at", TimeJson(asset.created_at)},
      {"updated_at", TimeJson(asset.updated_at)},
  };
}

nlohmann::json DerivativeJson(const catalog::Derivative& d) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const auto& blob : d.blobs) {
    blobs.push_back({{"name", blob.name},
                     {"key", blob.key},
                     {"size", blob.size},
                     {"content_type", blob.content_type}});
  }
  nlohmann::json out = {
      {"id", d.id},
      {"stage", d.stage},
      {"version", d.stage_version},
      {"recipe", d.recipe},
      {"params", d.params},
      {"state", catalog::Name(d.state)},
      {"current", d.current},
      {"attempts", d.attempts},
      {"blobs", blobs},
      {"bytes", d.bytes},
      {"metadata", d.metadata},
      {"created_at", TimeJson(d.created_at)},
      {"started_at", TimeJson(d.started_at)},
      {"finished_at", TimeJson(d.finished_at)},
  };
  if (!d.skip_reason.empty()) out["skip_reason"] = d.skip_reason;
  if (!d.error_code.empty()) {
    out["error"] = {{"code", d.error_code}, {"message", d.error_message}};
  }
  return out;
}

nlohmann::json IngestItemJson(const ingest::ItemResult& item) {
  nlohmann::json out = {
      {"path", item.path}, {"outcome", ingest::Name(item.outcome)}, {"bytes", item.bytes}};
  if (!item.skip_reason.empty()) out["skip_reason"] = item.skip_reason;
  if (item.error) out["error"] = ErrorJson(*item.error);
  if (item.asset) out["asset"] = AssetJson(*item.asset);
  return out;
}

nlohmann::json IngestSummaryJson(const ingest::Summary& summary) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : summary.items) items.push_back(IngestItemJson(item));
  return {{"summary",
           {{"added", summary.added},
            {"existed", summary.existed},
            {"skipped", summary.skipped},
            {"skipped_total", summary.SkippedTotal()},
            {"errors", summary.errors},
            {"bytes", summary.bytes},
            {"not_started", summary.not_started},
            {"elapsed_seconds", summary.elapsed_seconds}}},
          {"items", items}};
}

nlohmann::json JobJson(const catalog::Job& job) {
  nlohmann::json out = {
      {"id", job.id},
      {"asset_id", job.asset_id},
      {"owner", job.owner},
      {"stages", job.stages},
      {"priority", job.priority},
      {"state", catalog::Name(job.state)},
      {"attempts", job.attempts},
      {"max_attempts", job.max_attempts},
      {"run_after", TimeJson(job.run_after)},
      {"lease", nullptr},
      {"cancel_requested", job.cancel_requested},
      {"backfill_id", OptionalJson(job.backfill_id)},
      {"error", nullptr},
      {"created_at", TimeJson(job.created_at)},
      {"updated_at", TimeJson(job.updated_at)},
      {"started_at", TimeJson(job.started_at)},
      {"finished_at", TimeJson(job.finished_at)},
  };
  if (job.state == catalog::JobState::kRunning) {
    out["lease"] = {{"owner", job.lease_owner}, {"expires_at", TimeJson(job.lease_expires_at)}};
  }
  if (!job.last_error_code.empty()) {
    out["error"] = {{"code", job.last_error_code}, {"message", job.last_error_message}};
  }
  return out;
}

nlohmann::json QueueStatsJson(const catalog::QueueStats& stats, int64_t now_micros) {
  // {stage: {queued: n, running: n, failed: n}}, every state present for every stage.
  nlohmann::json depth = nlohmann::json::object();
  for (const auto& entry : stats.depth) {
    auto& stage = depth[entry.stage];
    if (stage.is_null()) stage = {{"queued", 0}, {"running", 0}, {"failed", 0}};
    stage[std::string(catalog::Name(entry.state))] = entry.jobs;
  }
  nlohmann::json running = nlohmann::json::array();
  for (const auto& job : stats.running) {
    running.push_back(
        {{"job_id", job.job_id},
         {"asset_id", job.asset_id},
         {"stages", job.stages},
         {"worker", job.worker},
         {"started_at", TimeJson(job.started_at)},
         {"running_seconds", static_cast<double>(now_micros - job.started_at) / 1e6},
         {"lease_expires_at", TimeJson(job.lease_expires_at)},
         {"lease_left_seconds", static_cast<double>(job.lease_expires_at - now_micros) / 1e6},
         {"lease_expired", job.lease_expires_at < now_micros}});
  }
  nlohmann::json oldest = nullptr;
  if (stats.oldest_queued_at > 0) {
    oldest = static_cast<double>(now_micros - stats.oldest_queued_at) / 1e6;
  }
  return {{"depth", depth},
          {"oldest_queued_at", TimeJson(stats.oldest_queued_at)},
          {"oldest_waiting_seconds", oldest},
          {"running", running},
          {"quarantined", stats.quarantined}};
}

nlohmann::json BackfillBacklogJson(const std::vector<catalog::BackfillBacklog>& backlog) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& backfill : backlog) {
    out.push_back({{"backfill_id", backfill.backfill_id},
                   {"state", catalog::Name(backfill.state)},
                   {"items", backfill.items},
                   {"assets", backfill.assets}});
  }
  return out;
}

nlohmann::json QuarantineEntryJson(const catalog::QuarantineEntry& entry) {
  return {{"sha256", entry.sha256_hex},
          {"stage", entry.stage},
          {"recipe", entry.recipe},
          {"failures", entry.failures},
          {"error", {{"code", entry.error_code}, {"message", entry.error_message}}},
          {"created_at", TimeJson(entry.created_at)}};
}

Result<nlohmann::json> AssetDetailJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                       const catalog::Asset& asset, const SignUrl& sign) {
  auto history = catalog.ListDerivatives(asset.id);
  if (!history) return Fail(history.error());
  auto all = registry.All();
  auto statuses = catalog.GetStageStatuses(asset.id, queue::RecipesOf(registry, all));
  if (!statuses) return Fail(statuses.error());

  nlohmann::json out = {{"asset", AssetJson(asset)},
                        {"status", catalog::Name(asset.status)},
                        {"error", nullptr},
                        {"probe", nullptr}};
  if (sign) REPRISE_TRY(AddUrl(out["asset"]["original"], sign));
  nlohmann::json stages = nlohmann::json::array();
  for (size_t i = 0; i < all.size(); ++i) {
    std::string name(all[i]->Name());
    nlohmann::json entry = {{"stage", name},
                            {"status", catalog::Name((*statuses)[i])},
                            {"version", all[i]->Version()},
                            {"recipe", registry.Recipe(name)},
                            {"current", nullptr},
                            {"latest", nullptr}};
    nlohmann::json attempts = nlohmann::json::array();
    for (const auto& d : *history) {  // newest first
      if (d.stage != name) continue;
      auto view = DerivativeJson(d);
      if (sign) {
        for (auto& blob : view["blobs"]) REPRISE_TRY(AddUrl(blob, sign));
      }
      if (entry["latest"].is_null()) entry["latest"] = view;
      if (d.current) {
        entry["current"] = view;
        if (name == "probe") out["probe"] = d.metadata;
      }
      attempts.push_back({{"id", d.id},
                          {"recipe", d.recipe},
                          {"state", catalog::Name(d.state)},
                          {"current", d.current},
                          {"finished_at", TimeJson(d.finished_at)}});
    }
    entry["history"] = attempts;
    const auto& latest = entry["latest"];
    if (out["error"].is_null() && (*statuses)[i] == catalog::StageStatus::kFailed &&
        latest.contains("error")) {
      out["error"] = {{"stage", name},
                      {"code", latest["error"]["code"]},
                      {"message", latest["error"]["message"]}};
    }
    stages.push_back(entry);
  }
  out["derivatives"] = stages;
  return out;
}

Result<nlohmann::json> StagesJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                  const catalog::AssetFilter& filter) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto* stage : registry.All()) {
    std::string name(stage->Name());
    auto counts = catalog.CountStageStatuses({name, registry.Recipe(name)}, filter);
    if (!counts) return Fail(counts.error());
    out.push_back({{"name", name},
                   {"version", stage->Version()},
                   {"recipe", registry.Recipe(name)},
                   {"params", stage->Params()},
                   {"inputs", stage->Inputs()},
                   {"counts",
                    {{"current", counts->current},
                     {"outdated", counts->outdated},
                     {"missing", counts->missing},
                     {"failed", counts->failed},
                     {"skipped", counts->skipped},
                     {"quarantined", counts->quarantined}}}});
  }
  return out;
}

}  // namespace reprise::services
