#include "services/jobs_service.h"

#include <algorithm>

#include <fmt/format.h>

#include "services/views.h"

namespace reprise::services {
namespace {

constexpr int kBatch = 500;

}  // namespace

nlohmann::json JobListJson(const JobList& list) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& job : list.items) items.push_back(JobJson(job));
  return PageJson(std::move(items), list.next_cursor);
}

nlohmann::json RetriedJson(int64_t retried) { return {{"retried", retried}}; }

nlohmann::json CancelledJson(int64_t id, catalog::JobState state) {
  return {{"id", id}, {"state", catalog::Name(state)}};
}

Result<JobList> JobsService::List(const Caller& caller, const JobQuery& query,
                                  const std::string& cursor, int64_t limit) {
  if (limit < 0) return Fail(ErrorCode::kInvalidArgument, "limit must not be negative");
  auto scope = caller.Scope(query.owner);
  if (!scope) return Fail(scope.error());
  catalog::JobFilter filter;
  filter.owner = scope->owner;
  filter.stage = query.stage;
  filter.asset_id = query.asset_id;
  if (query.state) {
    auto state = catalog::ParseJobState(*query.state);
    if (!state) return Fail(state.error().Wrap("--state"));
    filter.state = *state;
  }
  JobList list;
  catalog::PageRequest page;
  page.cursor = cursor;
  do {
    page.limit = limit > 0 ? static_cast<int>(std::min<int64_t>(
                                 kBatch, limit - static_cast<int64_t>(list.items.size())))
                           : kBatch;
    auto batch = catalog_.ListJobs(filter, page);
    if (!batch) return Fail(batch.error());
    for (auto& job : batch->items) list.items.push_back(std::move(job));
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty() && (limit == 0 || static_cast<int64_t>(list.items.size()) < limit));
  list.next_cursor = page.cursor;
  if (!list.next_cursor.empty()) {
    list.more = fmt::format(
        "{} jobs shown, and more match: use --limit N (0: all), or --cursor {} for the next "
        "page",
        list.items.size(), list.next_cursor);
  }
  return list;
}

Result<catalog::Job> JobsService::Get(const Caller& caller, int64_t id,
                                      const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  return catalog_.GetJob(id, *scope);
}

Result<int64_t> JobsService::Retry(const Caller& caller, int64_t id,
                                   const std::optional<std::string>& only_owner) {
  auto job = Get(caller, id, only_owner);
  if (!job) return Fail(job.error());
  if (job->state != catalog::JobState::kFailed && job->state != catalog::JobState::kCancelled) {
    return Fail(ErrorCode::kConflict,
                fmt::format("job {} is {}; only failed or cancelled jobs can be retried", job->id,
                            catalog::Name(job->state)));
  }
  catalog::JobFilter filter;
  filter.owner = job->owner;
  filter.job_id = job->id;
  return catalog_.RetryJobs(filter);
}

Result<int64_t> JobsService::RetryFailed(const Caller& caller, const RetryQuery& query) {
  auto scope = caller.Scope(query.owner);
  if (!scope) return Fail(scope.error());
  catalog::JobFilter filter;
  filter.owner = scope->owner;
  filter.stage = query.stage;
  filter.state = catalog::JobState::kFailed;
  return catalog_.RetryJobs(filter);
}

Result<catalog::JobState> JobsService::Cancel(const Caller& caller, int64_t id,
                                              const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  return catalog_.CancelJob(id, *scope);
}

}  // namespace reprise::services
