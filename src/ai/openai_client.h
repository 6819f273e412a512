// OpenAiClient: one OpenAI-compatible service (OpenAI itself, vLLM, llama.cpp's server,
// Ollama, whisper.cpp's server, faster-whisper servers) at a deployment's base URL.
//
// Calls (docs/SERVICES.md shows what goes over the wire):
//   ListModels   GET  {base}/models               the cheapest health check
//   ChatJson     POST {base}/chat/completions     text + JPEG images in, structured JSON
//                                                 out, validated against the request's
//                                                 schema (ai/json_schema.h)
//   Transcribe   POST {base}/audio/transcriptions a WAV as multipart/form-data,
//                                                 verbose_json segments out
//
// Every attempt first takes a permit from the injected RequestLimiter and gives it back
// when the answer is in. Retried (at most `max_attempts` attempts in all): HTTP 408, 409,
// 429 and 5xx, timeouts and broken connections, after an exponential backoff with jitter
// (half to all of initial_backoff * 2^(n-1), at most max_backoff) that is never shorter
// than what the server asked for with `retry-after-ms` or `Retry-After` (seconds or an
// HTTP date). A server asking for more than `max_retry_after` is not waited for. An
// answer that is not the JSON the endpoint promises (unparseable, or missing its fields)
// is tried once more, never more.
//
// Errors carry the server's own message ({"error":{"message":...}}) and origin "http:N"
// (or "curl:N" when no answer came):
//   kPermissionDenied  401, 403 (a wrong or missing key; never retried)
//   kNotFound          404 (usually a model the server does not serve)
//   kInvalidArgument   400, 413, 422 and other 4xx; a bad base URL; a request the client
//                      cannot send (a schema it cannot validate, no model)
//   kUnavailable       retries exhausted ("gave up after 4 attempts; the last: http 503
//                      ..."), a Retry-After beyond max_retry_after, no permit before
//                      the permit deadline, a malformed answer twice
//   kInternal          the model's answer cannot be used: a refusal, finish_reason
//                      "length" (max_tokens too small), empty content, content that is
//                      not JSON, or JSON that breaks the schema (naming the JSON Pointer);
//                      each says what the model did. Not retried here: a stage decides.
// Thread-safety: an OpenAiClient is immutable; its calls may run on many threads at once.
// The clock, sleeper, random source and limiter must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ai/limiter.h"
#include "ai/sleeper.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"

namespace reprise::ai {

// Where and how to reach a service: deployment, not recipe. Moving to another endpoint
// serving the same model changes this and nothing a stage produced.
struct ServiceConfig {
  std::string base_url;  // "http://127.0.0.1:8080/v1": the paths above are appended
  std::string api_key;   // the key itself (config names the environment variable); empty: none
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{300'000};  // one attempt, upload to last byte
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds max_retry_after{120'000};
  std::chrono::milliseconds permit_timeout{600'000};  // waiting for the limiter
  int64_t max_response_bytes = 16 << 20;
  std::string user_agent = "reprise/0.1";
};

struct ClientDependencies {
  const Clock& clock;
  Sleeper& sleeper;
  Random& random;  // backoff jitter
  RequestLimiter& limiter;
};

// How one call went, beside its result.
struct CallStats {
  std::chrono::microseconds latency{0};  // the successful attempt, request to last byte
  int attempts = 0;
};

struct ModelList {
  std::vector<std::string> ids;
  CallStats stats;
};

struct ChatImage {
  std::string jpeg;             // the JPEG file's bytes
  std::string detail = "auto";  // "low", "high" or "auto"
};

struct ChatRequest {
  std::string model;
  std::string system;  // empty: no system message
  std::string user;
  std::vector<ChatImage> images;  // after the user text, in order
  double temperature = 0;
  int max_tokens = 0;  // 0: the server's default
  std::string schema_name = "answer";
  nlohmann::json schema;  // JSON Schema of the answer (ai/json_schema.h's subset)
};

struct TokenUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
};

struct ChatResult {
  nlohmann::json value;  // the answer, valid against the request's schema
  std::string model;     // as the server reports it ("gpt-4o-2024-08-06")
  TokenUsage usage;
  CallStats stats;
};

struct TranscribeRequest {
  std::string model;
  std::string wav;       // a WAV file's bytes
  std::string language;  // ISO-639-1 ("en"); empty: the server detects it
  std::string prompt;    // optional context for the model
  std::string file_name = "audio.wav";
};

struct TranscriptSegment {
  double start = 0;  // seconds from the start of the file
  double end = 0;
  std::string text;
};

struct Transcription {
  std::string text;
  std::string language;  // as the server reports it ("en", or "english" from whisper.cpp)
  double duration = 0;   // seconds; 0 when the server does not say
  std::vector<TranscriptSegment> segments;
  CallStats stats;
};

class OpenAiClient final {
 public:
  // kInvalidArgument for a base URL that is not http(s) or for max_attempts < 1. No I/O.
  [[nodiscard]] static Result<OpenAiClient> Create(ServiceConfig config,
                                                   ClientDependencies dependencies);

  [[nodiscard]] Result<ModelList> ListModels() const;
  [[nodiscard]] Result<ChatResult> ChatJson(const ChatRequest& request) const;
  [[nodiscard]] Result<Transcription> Transcribe(const TranscribeRequest& request) const;

  const ServiceConfig& config() const { return config_; }

 private:
  OpenAiClient(ServiceConfig config, ClientDependencies dependencies)
      : config_(std::move(config)), deps_(dependencies) {}

  ServiceConfig config_;
  ClientDependencies deps_;
};

}  // namespace reprise::ai
