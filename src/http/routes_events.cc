// GET /api/v1/events: the event log, live (server-sent events) or as a JSON page.
#include <httplib.h>

#include <charconv>
#include <memory>

#include "http/api.h"
#include "services/events.h"

namespace reprise::http {
namespace {

Result<int> QueryLimit(const RouteRequest& request, int fallback) {
  auto text = request.Query("limit");
  if (!text) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Fail(ErrorCode::kInvalidArgument, "limit must be an integer, not '" + *text + "'");
  }
  return value;
}

// Where the client stands: Last-Event-ID (what EventSource sends when it reconnects),
// else ?last_event_id= or ?after=; nullopt for a fresh client.
Result<std::optional<int64_t>> Cursor(const RouteRequest& request) {
  auto text = request.Header("Last-Event-ID");
  if (!text || text->empty()) text = request.Query("last_event_id");
  if (!text) text = request.Query("after");
  if (!text) return std::optional<int64_t>();
  auto cursor = services::ParseEventCursor(*text);
  if (!cursor) return Fail(cursor.error());
  return std::optional<int64_t>(*cursor);
}

Result<void> SendPage(app::App& app, RouteRequest& request, httplib::Response& response,
                      std::vector<std::string> types, std::optional<int64_t> cursor) {
  services::EventListRequest list;
  list.after = cursor.value_or(0);
  list.types = std::move(types);
  list.owner = request.Query("owner");
  auto limit = QueryLimit(request, 100);
  if (!limit) return Fail(limit.error());
  list.limit = *limit;
  auto page = services::ListEvents(app.catalog(), request.caller, list);
  if (!page) return Fail(page.error());
  SendJson(response, 200, *page);
  return {};
}

}  // namespace

void AddEventRoutes(Router& router, ApiContext& context) {
  router.Add(
      "GET", "/api/v1/events",
      [&app = context.app](RouteRequest& request, httplib::Response& response) -> Result<void> {
        auto types = services::ParseEventTypes(request.Query("types").value_or(""));
        if (!types) return Fail(types.error());
        auto cursor = Cursor(request);
        if (!cursor) return Fail(cursor.error());
        auto format = request.Query("format");
        if (format == "json") return SendPage(app, request, response, *types, *cursor);
        if (format && *format != "sse") {
          return Fail(ErrorCode::kInvalidArgument,
                      "format is sse (the default) or json, not '" + *format + "'");
        }
        services::EventStreamOptions options;
        options.heartbeat = std::chrono::microseconds(
            static_cast<int64_t>(app.config().server.event_heartbeat_seconds * 1e6));
        auto opened =
            services::EventStream::Open(app.catalog(), app.event_bell(), app.clock(),
                                        request.caller, *cursor, std::move(*types), options);
        if (!opened) return Fail(opened.error());
        auto stream = std::make_shared<services::EventStream>(std::move(*opened));
        response.status = 200;
        response.set_header("Cache-Control", "no-cache");
        response.set_header("X-Accel-Buffering", "no");  // proxies: do not buffer
        // Runs on this request's server thread after the handler returned; each
        // call waits at most the poll interval, so a stopping server (checked
        // between calls) is never held up, and a client that went away fails the
        // next write (a heartbeat at the latest).
        response.set_chunked_content_provider(
            "text/event-stream",
            [stream, opened = false](size_t, httplib::DataSink& sink) mutable -> bool {
              std::string out;
              if (!opened) {
                opened = true;
                out = stream->Preamble();
              } else {
                auto next = stream->Next();
                if (!next) {
                  // The client reconnects with its Last-Event-ID and resumes.
                  out = ": error reading events: " + next.error().message + "\n\n";
                  sink.write(out.data(), out.size());
                  sink.done();
                  return true;
                }
                out = std::move(*next);
              }
              return out.empty() || sink.write(out.data(), out.size());
            });
        return {};
      });
}

}  // namespace reprise::http
