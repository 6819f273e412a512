#include "services/search_service.h"

#include <cmath>

#include <fmt/format.h>

namespace reprise::services {
namespace {

nlohmann::json Seconds(double seconds) {
  if (seconds < 0) return nullptr;
  return seconds;
}

}  // namespace

nlohmann::json SearchHitJson(const catalog::SearchHit& hit) {
  return {{"asset_id", hit.asset_id},
          {"asset_name", hit.asset_name},
          {"stage", hit.stage},
          {"kind", hit.kind},
          {"text", hit.text},
          {"start", Seconds(hit.start)},
          {"end", Seconds(hit.end)},
          {"scene", hit.scene < 0 ? nlohmann::json(nullptr) : nlohmann::json(hit.scene)},
          {"rank", hit.rank}};
}

nlohmann::json SearchPageJson(const std::string& query, const catalog::SearchPage& page) {
  nlohmann::json hits = nlohmann::json::array();
  for (const auto& hit : page.hits) hits.push_back(SearchHitJson(hit));
  return {{"query", query}, {"hits", std::move(hits)}, {"next_cursor", page.next_cursor}};
}

std::string SearchOffsetText(double seconds) {
  if (seconds < 0) return "-";
  const auto whole = static_cast<int64_t>(std::floor(seconds));
  if (whole >= 3600) {
    return fmt::format("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60);
  }
  return fmt::format("{}:{:02}", whole / 60, whole % 60);
}

Result<catalog::SearchPage> SearchService::Search(const Caller& caller,
                                                  const backfill::Selection& selection,
                                                  const catalog::SearchQuery& query) {
  auto scope = caller.Scope(selection.owner);
  if (!scope) return Fail(scope.error());
  backfill::Selection scoped = selection;
  scoped.owner = scope->owner;
  auto filter = scoped.ToFilter();
  if (!filter) return Fail(filter.error());
  return catalog_.Search(query, *filter);
}

}  // namespace reprise::services
