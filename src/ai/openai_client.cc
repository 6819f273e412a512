#include "ai/openai_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "ai/json_schema.h"
#include "core/crypto.h"
#include "net/curl_handles.h"

namespace reprise::ai {

using nlohmann::json;

namespace {

// One request as the retry loop sends it, again for each attempt.
struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string url;
  std::string json_body;                    // POST with a JSON body
  const TranscribeRequest* form = nullptr;  // POST as multipart/form-data
  std::string What() const { return method + " " + url; }
};

// One attempt's outcome.
struct HttpAnswer {
  CURLcode rc = CURLE_OK;
  std::string curl_message;
  int status = 0;
  std::string body;
  std::optional<std::string> retry_after;     // the Retry-After header
  std::optional<std::string> retry_after_ms;  // OpenAI's retry-after-ms header
  bool too_large = false;
  std::chrono::microseconds latency{0};
};

// The answer to a 2xx body: a malformed answer (not the shape the endpoint promises) is
// tried once more; any other error is final.
struct Handled {
  Result<void> result;
  bool malformed = false;
};
using BodyHandler = std::function<Handled(const json&)>;

Handled Malformed(std::string message) {
  return {Fail(ErrorCode::kUnavailable, std::move(message)), true};
}

struct Transfer {
  const ServiceConfig* config = nullptr;
  HttpAnswer* answer = nullptr;
};

bool HeaderIs(std::string_view line, std::string_view name, std::string& value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  std::string_view rest = line.substr(name.size() + 1);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
    rest.remove_suffix(1);
  }
  value = std::string(rest);
  return true;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Transfer*>(user)->answer;
  const size_t length = size * count;
  std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {  // a new answer (after 100 Continue): forget the last
    answer->retry_after.reset();
    answer->retry_after_ms.reset();
    return length;
  }
  std::string value;
  if (HeaderIs(line, "retry-after", value)) answer->retry_after = value;
  if (HeaderIs(line, "retry-after-ms", value)) answer->retry_after_ms = value;
  return length;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (static_cast<int64_t>(transfer->answer->body.size() + length) >
      transfer->config->max_response_bytes) {
    transfer->answer->too_large = true;
    return 0;
  }
  transfer->answer->body.append(data, length);
  return length;
}

Result<void> AddFormPart(curl_mime* mime, const char* name, const std::string& value) {
  curl_mimepart* part = curl_mime_addpart(mime);
  if (part == nullptr || curl_mime_name(part, name) != CURLE_OK ||
      curl_mime_data(part, value.data(), value.size()) != CURLE_OK) {
    return Fail(ErrorCode::kInternal, fmt::format("cannot add form field '{}'", name));
  }
  return {};
}

Result<net::CurlMimePtr> TranscriptionForm(CURL* easy, const TranscribeRequest& request) {
  net::CurlMimePtr mime(curl_mime_init(easy));
  if (!mime) return Fail(ErrorCode::kInternal, "curl_mime_init failed");
  curl_mimepart* file = curl_mime_addpart(mime.get());
  if (file == nullptr || curl_mime_name(file, "file") != CURLE_OK ||
      curl_mime_data(file, request.wav.data(), request.wav.size()) != CURLE_OK ||
      curl_mime_filename(file, request.file_name.c_str()) != CURLE_OK ||
      curl_mime_type(file, "audio/wav") != CURLE_OK) {
    return Fail(ErrorCode::kInternal, "cannot add the audio file to the form");
  }
  REPRISE_TRY(AddFormPart(mime.get(), "model", request.model));
  if (!request.language.empty()) REPRISE_TRY(AddFormPart(mime.get(), "language", request.language));
  if (!request.prompt.empty()) REPRISE_TRY(AddFormPart(mime.get(), "prompt", request.prompt));
  REPRISE_TRY(AddFormPart(mime.get(), "response_format", "verbose_json"));
  REPRISE_TRY(AddFormPart(mime.get(), "timestamp_granularities[]", "segment"));
  return mime;
}

// Sends one attempt. Only a request that cannot be built is an error; what the network
// or the server did is in the answer.
Result<HttpAnswer> Perform(const ServiceConfig& config, const Clock& clock,
                           const HttpRequest& request) {
  net::CurlGlobal();
  net::CurlEasyPtr easy(curl_easy_init());
  if (!easy) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* h = easy.get();
  HttpAnswer answer;
  Transfer transfer{&config, &answer};
  std::array<char, CURL_ERROR_SIZE> message{};
  curl_slist* headers = nullptr;
  auto add_header = [&](const std::string& header) {
    headers = curl_slist_append(headers, header.c_str());
  };
  add_header("Accept: application/json");
  add_header("Expect:");  // no 100-continue round trip before a body
  if (!config.api_key.empty()) add_header("Authorization: Bearer " + config.api_key);
  if (!request.json_body.empty()) add_header("Content-Type: application/json");
  net::CurlSlistPtr header_list(headers);

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, message.data());
  curl_easy_setopt(h, CURLOPT_USERAGENT, config.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  net::CurlMimePtr mime;
  if (request.form != nullptr) {
    auto form = TranscriptionForm(h, *request.form);
    if (!form) return Fail(form.error());
    mime = std::move(*form);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
  } else if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.json_body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.json_body.size()));
  }
  const int64_t started = clock.MonotonicMicros();
  answer.rc = curl_easy_perform(h);
  answer.latency = std::chrono::microseconds(clock.MonotonicMicros() - started);
  answer.curl_message = message[0] != '\0' ? message.data() : curl_easy_strerror(answer.rc);
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  answer.status = static_cast<int>(status);
  return answer;
}

// The server's own words: OpenAI's {"error":{"message","type","code"}}, a bare
// {"error":"..."}, FastAPI's {"detail":...}, or the start of the body.
std::string ServerMessage(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    const json* error = parsed.contains("error") ? &parsed["error"] : nullptr;
    if (error != nullptr && error->is_object() && error->contains("message") &&
        (*error)["message"].is_string()) {
      std::string text = (*error)["message"].get<std::string>();
      if (error->contains("code") && (*error)["code"].is_string()) {
        text += " (" + (*error)["code"].get<std::string>() + ")";
      }
      return text;
    }
    if (error != nullptr && error->is_string()) return error->get<std::string>();
    if (parsed.contains("detail")) {
      return parsed["detail"].is_string() ? parsed["detail"].get<std::string>()
                                          : parsed["detail"].dump();
    }
  }
  std::string text = body.substr(0, 300);
  return text.empty() ? "no body" : text;
}

// What went wrong with one attempt, for messages: "http 503: the server's words" or curl's.
std::string Describe(const HttpAnswer& answer) {
  if (answer.rc != CURLE_OK) {
    return fmt::format("{} (curl {})", answer.curl_message, static_cast<int>(answer.rc));
  }
  return fmt::format("http {}: {}", answer.status, ServerMessage(answer.body));
}

Error StatusError(const HttpRequest& request, const HttpAnswer& answer) {
  const int status = answer.status;
  ErrorCode code = ErrorCode::kInvalidArgument;
  if (status == 401 || status == 403) code = ErrorCode::kPermissionDenied;
  if (status == 404) code = ErrorCode::kNotFound;
  if (status == 408 || status == 409 || status == 429 || status >= 500) {
    code = ErrorCode::kUnavailable;
  }
  return Error{code, fmt::format("{}: {}", request.What(), Describe(answer)),
               "http:" + std::to_string(status)};
}

bool Retryable(const HttpAnswer& answer) {
  if (answer.rc != CURLE_OK) {
    return !answer.too_large && answer.rc != CURLE_URL_MALFORMAT &&
           answer.rc != CURLE_UNSUPPORTED_PROTOCOL;
  }
  const int s = answer.status;
  return s == 408 || s == 409 || s == 429 || s >= 500;
}

// How long the server asked us to wait, if it did.
std::optional<int64_t> ServerDelayMicros(const HttpAnswer& answer, const Clock& clock) {
  auto number = [](const std::string& text) -> std::optional<double> {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value < 0) {
      return std::nullopt;
    }
    return value;
  };
  if (answer.retry_after_ms) {
    if (auto ms = number(*answer.retry_after_ms)) return static_cast<int64_t>(*ms * 1000);
  }
  if (!answer.retry_after) return std::nullopt;
  if (auto seconds = number(*answer.retry_after)) return static_cast<int64_t>(*seconds * 1e6);
  const time_t when = curl_getdate(answer.retry_after->c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::max<int64_t>(0, static_cast<int64_t>(when) * 1'000'000 - clock.NowMicros());
}

}  // namespace

namespace {

// The retry loop every call shares (see the top of openai_client.h).
class Caller {
 public:
  Caller(const ServiceConfig& config, const ClientDependencies& deps)
      : config_(config), deps_(deps) {}

  Result<CallStats> Call(const HttpRequest& request, const BodyHandler& handle) const {
    bool malformed_before = false;
    std::string last;
    std::string last_origin;
    for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
      auto answer = Attempt(request);
      if (!answer) return Fail(answer.error());
      std::optional<int64_t> server_delay;
      if (answer->too_large) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("{}: the answer is larger than {} bytes", request.What(),
                                config_.max_response_bytes));
      }
      if (answer->rc == CURLE_OK && answer->status >= 200 && answer->status < 300) {
        Handled handled = Handle(*answer, handle);
        if (handled.result) return CallStats{answer->latency, attempt};
        if (!handled.malformed || malformed_before) {
          Error error = handled.result.error().Wrap(request.What());
          if (handled.malformed) error.message += " (twice in a row)";
          return Fail(std::move(error));
        }
        malformed_before = true;
        last = handled.result.error().message;
        last_origin = "http:" + std::to_string(answer->status);
      } else {
        if (!Retryable(*answer)) {
          if (answer->rc != CURLE_OK) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("{}: {}", request.What(), Describe(*answer)),
                        "curl:" + std::to_string(static_cast<int>(answer->rc)));
          }
          return Fail(StatusError(request, *answer));
        }
        last = Describe(*answer);
        last_origin = answer->rc != CURLE_OK
                          ? "curl:" + std::to_string(static_cast<int>(answer->rc))
                          : "http:" + std::to_string(answer->status);
        server_delay = ServerDelayMicros(*answer, deps_.clock);
      }
      if (attempt == config_.max_attempts) break;
      const int64_t max_wait = config_.max_retry_after.count() * 1000;
      if (server_delay && *server_delay > max_wait) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("{}: the server asked to retry after {:.1f} s, more than the "
                                "{:.1f} s this client waits; the last answer: {}",
                                request.What(), static_cast<double>(*server_delay) / 1e6,
                                static_cast<double>(max_wait) / 1e6, last),
                    last_origin);
      }
      deps_.sleeper.Sleep(
          std::chrono::microseconds(server_delay ? *server_delay : Backoff(attempt)));
    }
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{}: gave up after {} attempt(s); the last: {}", request.What(),
                            config_.max_attempts, last),
                last_origin);
  }

 private:
  Result<HttpAnswer> Attempt(const HttpRequest& request) const {
    const int64_t deadline = deps_.clock.MonotonicMicros() + config_.permit_timeout.count() * 1000;
    auto permit = deps_.limiter.Acquire(deadline);
    if (!permit) return Fail(permit.error().Wrap(request.What() + ": no request permit"));
    return Perform(config_, deps_.clock, request);
  }

  static Handled Handle(const HttpAnswer& answer, const BodyHandler& handle) {
    json body = json::parse(answer.body, nullptr, false);
    if (body.is_discarded()) {
      std::string start = answer.body.substr(0, 80);
      return Malformed(
          fmt::format("http {} with a body that is not JSON ({} bytes, beginning "
                      "'{}')",
                      answer.status, answer.body.size(), start));
    }
    if (!body.is_object()) {
      return Malformed(fmt::format("http {} with a JSON {} where an object belongs", answer.status,
                                   body.type_name()));
    }
    return handle(body);
  }

  int64_t Backoff(int attempt) const {
    const double initial = static_cast<double>(config_.initial_backoff.count()) * 1000;
    const double ceiling = static_cast<double>(config_.max_backoff.count()) * 1000;
    const double full = std::min(ceiling, initial * std::pow(2.0, attempt - 1));
    return static_cast<int64_t>(full * (0.5 + 0.5 * deps_.random.Uniform()));
  }

  const ServiceConfig& config_;
  const ClientDependencies& deps_;
};

std::string DataUrl(const std::string& jpeg) {
  return "data:image/jpeg;base64," +
         Base64Encode(std::span(reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size()));
}

json ChatBody(const ChatRequest& request) {
  json messages = json::array();
  if (!request.system.empty())
    messages.push_back({{"role", "system"}, {"content", request.system}});
  json content = json::array({{{"type", "text"}, {"text", request.user}}});
  for (const ChatImage& image : request.images) {
    content.push_back({{"type", "image_url"},
                       {"image_url", {{"url", DataUrl(image.jpeg)}, {"detail", image.detail}}}});
  }
  messages.push_back({{"role", "user"}, {"content", std::move(content)}});
  json body = {{"model", request.model},
               {"messages", std::move(messages)},
               {"temperature", request.temperature},
               {"response_format",
                {{"type", "json_schema"},
                 {"json_schema",
                  {{"name", request.schema_name}, {"strict", true}, {"schema", request.schema}}}}}};
  if (request.max_tokens > 0) body["max_tokens"] = request.max_tokens;
  return body;
}

int64_t Count(const json& usage, const char* name) {
  return usage.contains(name) && usage[name].is_number_integer() ? usage[name].get<int64_t>() : 0;
}

tl::unexpected<Error> ModelError(std::string message) {
  return Fail(ErrorCode::kInternal, std::move(message));
}

// choices[0].message as the chat endpoint promises it, into `out`.
Handled ReadChat(const json& body, const ChatRequest& request, const JsonSchema& schema,
                 ChatResult& out) {
  if (!body.contains("choices") || !body["choices"].is_array() || body["choices"].empty() ||
      !body["choices"][0].is_object() || !body["choices"][0].contains("message") ||
      !body["choices"][0]["message"].is_object()) {
    return Malformed("the answer has no choices[0].message object");
  }
  const json& choice = body["choices"][0];
  const json& message = choice["message"];
  const std::string finish = choice.contains("finish_reason") && choice["finish_reason"].is_string()
                                 ? choice["finish_reason"].get<std::string>()
                                 : "";
  if (message.contains("refusal") && message["refusal"].is_string() &&
      !message["refusal"].get_ref<const std::string&>().empty()) {
    return {ModelError("the model refused: " + message["refusal"].get<std::string>())};
  }
  if (finish == "length") {
    return {ModelError(fmt::format(
        "the answer was cut off by the token limit (finish_reason \"length\", max_tokens {})",
        request.max_tokens))};
  }
  if (finish == "content_filter") {
    return {ModelError("the answer was withheld by the server's content filter")};
  }
  if (!message.contains("content") || !message["content"].is_string() ||
      message["content"].get_ref<const std::string&>().empty()) {
    return {
        ModelError(fmt::format("the model returned no content (finish_reason \"{}\")", finish))};
  }
  const std::string& content = message["content"].get_ref<const std::string&>();
  json value;
  try {
    value = json::parse(content);
  } catch (const json::parse_error& e) {
    return {ModelError(fmt::format("the model's content is not JSON ({}); it begins '{}'", e.what(),
                                   content.substr(0, 80)))};
  }
  if (auto valid = schema.Validate(value); !valid) {
    return {ModelError(fmt::format("the model's answer does not match the schema '{}': {}",
                                   request.schema_name, valid.error().message))};
  }
  out.value = std::move(value);
  out.model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>()
                                                                  : request.model;
  if (body.contains("usage") && body["usage"].is_object()) {
    const json& usage = body["usage"];
    out.usage = {Count(usage, "prompt_tokens"), Count(usage, "completion_tokens"),
                 Count(usage, "total_tokens")};
    if (out.usage.total_tokens == 0) {
      out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens;
    }
  }
  return {};
}

Handled ReadTranscription(const json& body, Transcription& out) {
  if (!body.contains("text") || !body["text"].is_string()) {
    return Malformed("the transcription has no \"text\"");
  }
  out.text = body["text"].get<std::string>();
  if (body.contains("language") && body["language"].is_string()) {
    out.language = body["language"].get<std::string>();
  }
  if (body.contains("duration") && body["duration"].is_number()) {
    out.duration = body["duration"].get<double>();
  }
  const bool has_segments = body.contains("segments") && body["segments"].is_array();
  if (!has_segments) {
    if (out.text.find_first_not_of(" \t\r\n") == std::string::npos) return {};
    return Malformed(
        "the transcription has text but no \"segments\" (does the server support "
        "response_format=verbose_json?)");
  }
  const json& segments = body["segments"];
  for (size_t i = 0; i < segments.size(); ++i) {
    const json& s = segments[i];
    if (!s.is_object() || !s.contains("start") || !s["start"].is_number() || !s.contains("end") ||
        !s["end"].is_number() || !s.contains("text") || !s["text"].is_string()) {
      return Malformed(fmt::format("segment {} lacks a numeric start and end or a text", i));
    }
    TranscriptSegment segment{s["start"].get<double>(), s["end"].get<double>(),
                              s["text"].get<std::string>()};
    if (!(segment.start >= 0) || !(segment.end >= segment.start)) {
      return Malformed(
          fmt::format("segment {} runs from {} to {} s", i, segment.start, segment.end));
    }
    out.segments.push_back(std::move(segment));
  }
  return {};
}

}  // namespace

Result<OpenAiClient> OpenAiClient::Create(ServiceConfig config, ClientDependencies dependencies) {
  std::string& base = config.base_url;
  if (!base.starts_with("http://") && !base.starts_with("https://")) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the service base URL '{}' is not an http(s) URL", base));
  }
  while (base.ends_with("/")) base.pop_back();
  if (config.max_attempts < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("max attempts must be at least 1, not {}", config.max_attempts));
  }
  return OpenAiClient(std::move(config), dependencies);
}

Result<ModelList> OpenAiClient::ListModels() const {
  ModelList list;
  HttpRequest request{"GET", config_.base_url + "/models", "", nullptr};
  auto stats = Caller(config_, deps_).Call(request, [&](const json& body) -> Handled {
    if (!body.contains("data") || !body["data"].is_array()) {
      return Malformed("the model list has no \"data\" array");
    }
    list.ids.clear();
    for (const json& model : body["data"]) {
      if (!model.is_object() || !model.contains("id") || !model["id"].is_string()) {
        return Malformed("a model in the list has no \"id\"");
      }
      list.ids.push_back(model["id"].get<std::string>());
    }
    return {};
  });
  if (!stats) return Fail(stats.error());
  list.stats = *stats;
  return list;
}

Result<ChatResult> OpenAiClient::ChatJson(const ChatRequest& request) const {
  if (request.model.empty())
    return Fail(ErrorCode::kInvalidArgument, "a chat request needs a model");
  auto schema = JsonSchema::Compile(request.schema);
  if (!schema) return Fail(schema.error().Wrap("the answer schema '" + request.schema_name + "'"));
  HttpRequest http{"POST", config_.base_url + "/chat/completions", ChatBody(request).dump(),
                   nullptr};
  ChatResult result;
  auto stats = Caller(config_, deps_).Call(http, [&](const json& body) {
    return ReadChat(body, request, *schema, result);
  });
  if (!stats) return Fail(stats.error());
  result.stats = *stats;
  return result;
}

Result<Transcription> OpenAiClient::Transcribe(const TranscribeRequest& request) const {
  if (request.model.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a transcription request needs a model");
  }
  HttpRequest http{"POST", config_.base_url + "/audio/transcriptions", "", &request};
  Transcription result;
  auto stats = Caller(config_, deps_).Call(http, [&](const json& body) {
    result = Transcription{};
    return ReadTranscription(body, result);
  });
  if (!stats) return Fail(stats.error());
  result.stats = *stats;
  return result;
}

}  // namespace reprise::ai
