#include <httplib.h>

#include <memory>
#include <vector>

#include "core/hash.h"
#include "http/api.h"
#include "http/byte_range.h"
#include "http/conditional.h"
#include "http/content_type.h"

namespace reprise::http {
namespace {

// Bytes read from the store per write to the socket: the only buffer a download holds.
constexpr size_t kChunkBytes = 64 * 1024;

// A strong validator that changes whenever the bytes can: a blob key is never rewritten
// with other content (originals are named by their hash, derivative files live in one
// folder per attempt), so key and size identify the representation.
std::string ETagOf(std::string_view key, int64_t size) {
  std::string text(key);
  text += '\n';
  text += std::to_string(size);
  auto digest = Sha256Of(text);
  return "\"" + HexLower(std::span<const uint8_t>(digest.data(), 16)) + "\"";
}

// Streams bytes [first, first + length) of the blob, one chunk per call, as httplib asks
// for them (its offsets count from the start of what this response sends).
struct BlobStream {
  std::unique_ptr<ByteReader> reader;
  uint64_t first = 0;
  uint64_t position = UINT64_MAX;  // the reader's, relative to `first`
  std::vector<std::byte> buffer;

  bool Provide(size_t offset, size_t length, httplib::DataSink& sink) {
    if (position != offset) {
      if (!reader->Seek(static_cast<int64_t>(first + offset))) return false;
      position = offset;
    }
    if (buffer.empty()) buffer.resize(kChunkBytes);
    size_t want = std::min(length, buffer.size());
    auto n = reader->Read(std::span<std::byte>(buffer.data(), want));
    if (!n || *n == 0) return false;  // the blob shrank or failed: cut the response short
    position += *n;
    return sink.write(reinterpret_cast<const char*>(buffer.data()), *n);
  }
};

Result<void> ServeBlob(ApiContext& context, RouteRequest& call, httplib::Response& response) {
  const std::string& key = call.Param("key");
  REPRISE_TRY(context.signer->Verify(key, call.Query("expires").value_or(""),
                                     call.Query("sig").value_or("")));
  auto reader = context.app.blobs().Open(key);
  if (!reader) {
    if (reader.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no blob " + key);
    }
    return Fail(reader.error());
  }
  int64_t size = (*reader)->Size();
  if (size < 0) return Fail(ErrorCode::kIo, "blob " + key + " has no known size");

  // httplib applies Range itself to every response it sends (and would slice an error
  // body or re-cut our 206); this route decides Range on its own, so httplib's copy of
  // the parsed header is cleared. httplib owns the Request as a non-const object and
  // hands it to handlers by const reference, so the cast is well-defined.
  const_cast<httplib::Request&>(call.raw).ranges.clear();

  std::string etag = ETagOf(key, size);
  response.set_header("ETag", etag);
  response.set_header("Accept-Ranges", "bytes");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Cache-Control", "private, max-age=3600");
  if (NoneMatchHits(call.Header("If-None-Match").value_or(""), etag)) {
    response.status = 304;
    return {};
  }

  RangeRequest range = ParseRange(call.Header("Range").value_or(""), static_cast<uint64_t>(size));
  ByteSpan span{0, static_cast<uint64_t>(size)};
  response.status = 200;
  if (range.outcome == RangeOutcome::kUnsatisfiable) {
    response.set_header("Content-Range", UnsatisfiedRange(static_cast<uint64_t>(size)));
    SendJson(
        response, 416,
        {{"error",
          {{"code", "range_not_satisfiable"},
           {"message", "the range selects no byte of the " + std::to_string(size) + "-byte blob"},
           {"details", {{"size", size}}}}}});
    return {};
  }
  if (range.outcome == RangeOutcome::kPartial) {
    span = range.span;
    response.status = 206;
    response.set_header("Content-Range", ContentRange(span, static_cast<uint64_t>(size)));
  }

  std::string content_type(ContentTypeForKey(key));
  if (span.length == 0) {  // an empty blob: httplib sends no provider for zero bytes
    response.set_content("", content_type);
    return {};
  }
  auto stream = std::make_shared<BlobStream>();
  stream->reader = std::move(*reader);
  stream->first = span.first;
  response.set_content_provider(span.length, content_type,
                                [stream](size_t offset, size_t length, httplib::DataSink& sink) {
                                  return stream->Provide(offset, length, sink);
                                });
  return {};
}

}  // namespace

void AddBlobRoutes(Router& router, ApiContext& context) {
  auto serve = [&context](RouteRequest& call, httplib::Response& response) {
    return ServeBlob(context, call, response);
  };
  router.Add("GET", "/blobs/{key...}", serve, Access::kPublic);
  // httplib answers HEAD through the same handler and sends the headers only.
  router.Add("HEAD", "/blobs/{key...}", serve, Access::kPublic);
}

}  // namespace reprise::http
