// The event log as the API and the live stream show it: one owner-scoped query used by
// GET /api/v1/events?format=json and by the server-sent event stream (EventStream).
//
// Scoping follows Caller: an owner's caller sees only events of its owner (events of
// owner-less backfills included are admin-only); an admin sees all, or one owner with
// `owner`. Errors: kInvalidArgument for an unknown event type, a negative cursor or a
// limit outside 1..1000; kPermissionDenied for a non-admin naming another owner;
// catalog errors as they come.
//
// Thread-safety: the functions are reentrant; an EventStream belongs to one request.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "services/caller.h"
#include "services/event_bell.h"

namespace reprise::services {

struct EventListRequest {
  int64_t after = 0;                 // events with a larger id
  std::vector<std::string> types;    // empty: all
  std::optional<std::string> owner;  // an admin narrowing to one owner
  int limit = 100;
};

// "asset.ready,backfill.finished" -> the types; kInvalidArgument names an unknown one.
[[nodiscard]] Result<std::vector<std::string>> ParseEventTypes(std::string_view list);
// A cursor as clients send it (Last-Event-ID, ?after=): a non-negative integer.
[[nodiscard]] Result<int64_t> ParseEventCursor(std::string_view text);

// {"events": [EventJson...], "last_id": id of the last event, or `after` when none}
[[nodiscard]] Result<nlohmann::json> ListEvents(catalog::Catalog& catalog, const Caller& caller,
                                                const EventListRequest& request);

// One server-sent event: "id: N\nevent: TYPE\ndata: {json}\n\n".
std::string SseFrame(const catalog::Event& event);

struct EventStreamOptions {
  std::chrono::microseconds poll{500'000};          // longest wait before looking again
  std::chrono::microseconds heartbeat{15'000'000};  // a comment after this much silence
  int batch = 100;                                  // events read per look
};

// A live stream's state: where it stands and when it last wrote. Next() waits (at most
// options.poll, less when the bell rings) and returns what to send: frames of the new
// events the caller may see, a heartbeat comment when the stream was quiet for
// options.heartbeat, or "" for nothing yet. A fresh stream (no cursor) starts after the
// newest event at Open(); with a cursor it first replays every event after it.
class EventStream {
 public:
  [[nodiscard]] static Result<EventStream> Open(catalog::Catalog& catalog, EventBell& bell,
                                                const Clock& clock, const Caller& caller,
                                                std::optional<int64_t> cursor,
                                                std::vector<std::string> types,
                                                EventStreamOptions options);
  [[nodiscard]] Result<std::string> Next();
  // The first bytes of the stream: the client's reconnection delay and a comment, so a
  // client knows the stream is open before any event exists.
  [[nodiscard]] std::string Preamble() const;
  [[nodiscard]] int64_t cursor() const { return query_.after_id; }

 private:
  EventStream(catalog::Catalog& catalog, EventBell& bell, const Clock& clock,
              catalog::EventQuery query, EventStreamOptions options);

  catalog::Catalog* catalog_;
  EventBell* bell_;
  const Clock* clock_;
  catalog::EventQuery query_;
  EventStreamOptions options_;
  int64_t last_write_micros_;  // monotonic
  int64_t rung_ = 0;           // the bell's newest id at the last look (0: look at once)
  bool more_ = false;          // the last look filled a batch: look again at once
};

}  // namespace reprise::services
