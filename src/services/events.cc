#include "services/events.h"
#include "core/json_text.h"

#include <algorithm>
#include <charconv>

namespace reprise::services {
namespace {

Result<catalog::EventQuery> QueryFor(const Caller& caller, std::optional<std::string> owner,
                                     std::vector<std::string> types) {
  auto scope = caller.Scope(owner);
  if (!scope) return Fail(scope.error());
  catalog::EventQuery query;
  query.owner = scope->owner;
  query.types = std::move(types);
  return query;
}

}  // namespace

Result<std::vector<std::string>> ParseEventTypes(std::string_view list) {
  std::vector<std::string> types;
  const auto known = catalog::EventTypes();
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view type = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (type.empty()) continue;
    if (std::find(known.begin(), known.end(), type) == known.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown event type '" + std::string(type) +
                      "' (asset.created, asset.processing, asset.ready, asset.failed, "
                      "job.finished, backfill.progress, backfill.finished)");
    }
    types.emplace_back(type);
  }
  return types;
}

Result<int64_t> ParseEventCursor(std::string_view text) {
  int64_t value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "an event id is a non-negative integer, not '" + std::string(text) + "'");
  }
  return value;
}

Result<nlohmann::json> ListEvents(catalog::Catalog& catalog, const Caller& caller,
                                  const EventListRequest& request) {
  auto query = QueryFor(caller, request.owner, request.types);
  if (!query) return Fail(query.error());
  query->after_id = request.after;
  query->limit = request.limit;
  auto events = catalog.ListEvents(*query);
  if (!events) return Fail(events.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& event : *events) list.push_back(catalog::EventJson(event));
  return nlohmann::json{{"events", std::move(list)},
                        {"last_id", events->empty() ? request.after : events->back().id}};
}

std::string SseFrame(const catalog::Event& event) {
  // Compact JSON holds no raw newline, so one data: line carries it.
  return "id: " + std::to_string(event.id) + "\nevent: " + event.type +
         "\ndata: " + JsonText(catalog::EventJson(event)) + "\n\n";
}

EventStream::EventStream(catalog::Catalog& catalog, EventBell& bell, const Clock& clock,
                         catalog::EventQuery query, EventStreamOptions options)
    : catalog_(&catalog),
      bell_(&bell),
      clock_(&clock),
      query_(std::move(query)),
      options_(options),
      last_write_micros_(clock.MonotonicMicros()) {}

Result<EventStream> EventStream::Open(catalog::Catalog& catalog, EventBell& bell,
                                      const Clock& clock, const Caller& caller,
                                      std::optional<int64_t> cursor, std::vector<std::string> types,
                                      EventStreamOptions options) {
  auto query = QueryFor(caller, std::nullopt, std::move(types));
  if (!query) return Fail(query.error());
  if (cursor) {
    query->after_id = *cursor;
  } else {
    auto latest = catalog.LatestEventId();
    if (!latest) return Fail(latest.error());
    query->after_id = *latest;
  }
  query->limit = std::clamp(options.batch, 1, 1000);
  return EventStream(catalog, bell, clock, std::move(*query), options);
}

std::string EventStream::Preamble() const { return "retry: 2000\n: stream open\n\n"; }

Result<std::string> EventStream::Next() {
  if (!more_) {
    // Wait for a commit of this process since the last look, or the poll interval (for
    // another process's).
    bell_->Wait(rung_, options_.poll);
  }
  rung_ = bell_->newest();
  auto events = catalog_->ListEvents(query_);
  if (!events) return Fail(events.error());
  more_ = static_cast<int>(events->size()) == query_.limit;
  std::string out;
  for (const auto& event : *events) {
    out += SseFrame(event);
    query_.after_id = event.id;
  }
  const int64_t now = clock_->MonotonicMicros();
  if (out.empty() && now - last_write_micros_ >= options_.heartbeat.count())
    out = ": heartbeat\n\n";
  if (!out.empty()) last_write_micros_ = now;
  return out;
}

}  // namespace reprise::services
