// OpenAiTestServer: a small OpenAI-compatible server on 127.0.0.1 (a free port) for tests
// of the AI clients and, later, of the stages using them. It speaks OpenAI's request and
// response shapes for
//   GET  /v1/models                  the served models
//   POST /v1/chat/completions        structured output: the content is the JSON the
//                                    test's script returns for the request
//   POST /v1/audio/transcriptions    multipart/form-data; verbose_json from the script
// and checks each request the way a strict server would, answering OpenAI's error shape
// ({"error":{"message","type","code"}}) when it is wrong: the bearer token (401), a
// model it serves (404 model_not_found), a JSON body with messages, a json_schema
// response_format with strict true (400), every image part a data:image/jpeg;base64 URL
// whose bytes are a real JPEG (SOI, a SOF with sane dimensions and components, SOS,
// entropy-coded data, EOI at the end; 400 invalid_image otherwise), the form's file a
// real PCM/float WAV whose data chunk fits the file (400 invalid_file).
//
// Faults: QueueFaults() makes the next requests (any endpoint, in arrival order) answer
// 429 with Retry-After / retry-after-ms, 500, slowly, with a body that is not JSON, a
// refusal, a truncated ("length") answer, empty content or content that is not JSON.
// HoldUntilInFlight(n, window) keeps each request waiting until n are being served at once
// or `window` has passed. With n one above a client's cap, requests pile up to the cap (so
// the cap is reached) and a limiter letting one request too many through is caught.
//
// Every request is recorded (calls()), with the time it arrived on the injected clock
// (Options::clock; its MonotonicMicros) and on the steady clock, and the server keeps the
// largest number of requests it served at once (max_in_flight()). Thread-safe. Requests
// may come from other processes (worker tests): the server lives in the test process.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"

namespace reprise::testing {

struct OpenAiCall {
  std::string method;
  std::string path;           // "/v1/chat/completions"
  std::string authorization;  // the header as sent
  std::string user_agent;
  std::string model;
  nlohmann::json body;  // chat: the JSON body; transcription: the form's text fields
  int images = 0;       // image parts (chat), each a checked JPEG
  std::vector<std::string> image_details;
  int64_t wav_bytes = 0;     // transcription: the file's size
  int status = 0;            // what the server answered
  int64_t clock_micros = 0;  // Options::clock->MonotonicMicros() on arrival, 0 without one
  std::chrono::steady_clock::time_point received;
};

enum class OpenAiFault {
  kRateLimited,     // 429 rate_limit_exceeded with the spec's retry headers
  kServerError,     // 500 (or spec.status)
  kSlow,            // waits spec.delay, then answers normally
  kMalformedBody,   // 200 with a body that is not JSON
  kRefusal,         // chat: message.refusal set, content null
  kTruncated,       // chat: finish_reason "length", content cut in the middle
  kEmptyContent,    // chat: content ""
  kNotJsonContent,  // chat: content is prose
};

struct OpenAiFaultSpec {
  OpenAiFault fault = OpenAiFault::kServerError;
  std::string retry_after;     // Retry-After header, when not empty
  std::string retry_after_ms;  // retry-after-ms header, when not empty
  std::chrono::milliseconds delay{0};
  int status = 500;  // kServerError's status
};

class OpenAiTestServer {
 public:
  struct Options {
    std::string api_key = "test-key";
    std::vector<std::string> models{"test-vision", "test-whisper"};
    const Clock* clock = nullptr;
    int threads = 32;  // requests served at once, at most
  };
  // The chat script: the JSON value the model answers, given the request's JSON body.
  using ChatScript = std::function<nlohmann::json(const nlohmann::json& request)>;
  // The transcription script: the verbose_json body, given the form's text fields and
  // the WAV's duration in seconds.
  using TranscriptionScript =
      std::function<nlohmann::json(const nlohmann::json& fields, double wav_seconds)>;

  // Starts listening (test support: the one place a constructor does I/O).
  explicit OpenAiTestServer(Options options);
  OpenAiTestServer() : OpenAiTestServer(Options{}) {}
  ~OpenAiTestServer();
  OpenAiTestServer(const OpenAiTestServer&) = delete;
  OpenAiTestServer& operator=(const OpenAiTestServer&) = delete;

  // "http://127.0.0.1:PORT/v1"
  std::string base_url() const;
  int port() const;

  void SetChatScript(ChatScript script);
  // Every chat request is answered with `value`.
  void SetChatAnswer(nlohmann::json value);
  // Default: one segment per started 2 s of audio, "segment N".
  void SetTranscriptionScript(TranscriptionScript script);
  void QueueFaults(std::vector<OpenAiFaultSpec> faults);
  // Holds each request until `count` are being served at once or `window` passes; 0 turns
  // holding off.
  void HoldUntilInFlight(int count, std::chrono::milliseconds window);

  std::vector<OpenAiCall> calls() const;
  int max_in_flight() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Why `bytes` is not a JPEG a decoder would accept, or "" when it is one.
std::string JpegProblem(const std::string& bytes);
// Why `bytes` is not a PCM or float WAV file, or "" when it is; `seconds` gets its length.
std::string WavProblem(const std::string& bytes, double* seconds);

}  // namespace reprise::testing
