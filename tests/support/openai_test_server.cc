#include "tests/support/openai_test_server.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/crypto.h"

namespace reprise::testing {

using nlohmann::json;

namespace {

uint32_t Be16(const std::string& b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 8) |
         static_cast<uint8_t>(b[at + 1]);
}

uint32_t Le(const std::string& b, size_t at, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(b[at + i]);
  return value;
}

uint8_t Byte(const std::string& b, size_t at) { return static_cast<uint8_t>(b[at]); }

bool IsSof(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// From SOS's header to the next marker that is not a stuffed 0xFF00 or a restart.
size_t SkipEntropyData(const std::string& b, size_t pos) {
  while (pos + 1 < b.size()) {
    if (Byte(b, pos) == 0xFF) {
      const uint8_t next = Byte(b, pos + 1);
      if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7)) return pos;
    }
    ++pos;
  }
  return b.size();
}

std::string SofProblem(const std::string& b, size_t pos, size_t length) {
  if (length < 8) return "SOF segment too short";
  const uint32_t precision = Byte(b, pos + 2);
  const uint32_t height = Be16(b, pos + 3);
  const uint32_t width = Be16(b, pos + 5);
  const uint32_t components = Byte(b, pos + 7);
  if (precision != 8 && precision != 12) return fmt::format("sample precision {}", precision);
  if (height == 0 || width == 0 || height > 16384 || width > 16384) {
    return fmt::format("dimensions {}x{}", width, height);
  }
  if (components < 1 || components > 4 || length != 8 + 3 * components) {
    return fmt::format("{} components in a SOF of {} bytes", components, length);
  }
  return "";
}

const char* kJsonType = "application/json";

void SendError(httplib::Response& response, int status, const std::string& message,
               const std::string& type, const std::string& code) {
  response.status = status;
  json body = {{"error", {{"message", message}, {"type", type}, {"param", nullptr}}}};
  body["error"]["code"] = code.empty() ? json(nullptr) : json(code);
  response.set_content(body.dump(), kJsonType);
}

}  // namespace

std::string JpegProblem(const std::string& b) {
  if (b.size() < 4 || Byte(b, 0) != 0xFF || Byte(b, 1) != 0xD8) return "no SOI marker";
  if (Byte(b, b.size() - 2) != 0xFF || Byte(b, b.size() - 1) != 0xD9) {
    return "does not end with an EOI marker";
  }
  bool sof = false;
  bool sos = false;
  size_t pos = 2;
  while (pos < b.size()) {
    if (Byte(b, pos) != 0xFF) return fmt::format("no marker at byte {}", pos);
    while (pos + 1 < b.size() && Byte(b, pos + 1) == 0xFF) ++pos;  // fill bytes
    if (pos + 1 >= b.size()) return "truncated marker";
    const uint8_t marker = Byte(b, pos + 1);
    pos += 2;
    if (marker == 0xD9) {
      if (pos != b.size()) return fmt::format("EOI at byte {} before the end", pos - 2);
      if (!sof) return "no SOF segment";
      if (!sos) return "no SOS segment";
      return "";
    }
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
    if (pos + 2 > b.size()) return "truncated segment length";
    const size_t length = Be16(b, pos);
    if (length < 2 || pos + length > b.size()) {
      return fmt::format("segment 0xFF{:02X} of {} bytes runs past the end", marker, length);
    }
    if (IsSof(marker)) {
      if (std::string problem = SofProblem(b, pos, length); !problem.empty()) return problem;
      sof = true;
    }
    pos += length;
    if (marker == 0xDA) {
      if (!sof) return "SOS before any SOF";
      sos = true;
      pos = SkipEntropyData(b, pos);
    }
  }
  return "no EOI marker";
}

std::string WavProblem(const std::string& b, double* seconds) {
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) {
    return "not a RIFF WAVE file";
  }
  uint32_t format = 0, channels = 0, rate = 0, block = 0, bits = 0;
  size_t pos = 12;
  while (pos + 8 <= b.size()) {
    const std::string id = b.substr(pos, 4);
    const size_t size = Le(b, pos + 4, 4);
    pos += 8;
    if (id == "fmt ") {
      if (size < 16 || pos + size > b.size()) return "fmt chunk too short";
      format = Le(b, pos, 2);
      channels = Le(b, pos + 2, 2);
      rate = Le(b, pos + 4, 4);
      block = Le(b, pos + 12, 2);
      bits = Le(b, pos + 14, 2);
      if (format != 1 && format != 3 && format != 0xFFFE) return fmt::format("format {}", format);
      if (channels < 1 || channels > 16 || rate < 1000 || rate > 384000 ||
          (bits != 8 && bits != 16 && bits != 24 && bits != 32 && bits != 64) ||
          block != channels * bits / 8) {
        return fmt::format("{} channels, {} Hz, {} bits, blocks of {}", channels, rate, bits,
                           block);
      }
    } else if (id == "data") {
      if (rate == 0) return "data before the fmt chunk";
      if (size == 0 || pos + size > b.size() || size % block != 0) {
        return fmt::format("data chunk of {} bytes in a file of {}", size, b.size());
      }
      if (seconds != nullptr) *seconds = static_cast<double>(size) / (rate * block);
      return "";
    }
    pos += size + (size & 1);
  }
  return "no data chunk";
}

struct OpenAiTestServer::State {
  explicit State(Options o) : options(std::move(o)) {}

  Options options;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mutex;
  std::condition_variable changed;
  ChatScript chat_script;
  TranscriptionScript transcription_script;
  std::deque<OpenAiFaultSpec> faults;
  int hold_count = 0;
  std::chrono::milliseconds hold_timeout{20'000};
  int in_flight = 0;
  int max_in_flight = 0;
  std::vector<OpenAiCall> calls;
  int answers = 0;
  bool stopping = false;

  // Counts a request in flight for its lifetime and records it when it ends.
  class Serving {
   public:
    Serving(State& state, const httplib::Request& request, httplib::Response& response)
        : state_(state), response_(response) {
      call.method = request.method;
      call.path = request.path;
      call.authorization = request.get_header_value("Authorization");
      call.user_agent = request.get_header_value("User-Agent");
      call.received = std::chrono::steady_clock::now();
      if (state.options.clock != nullptr)
        call.clock_micros = state.options.clock->MonotonicMicros();
      std::unique_lock lock(state.mutex);
      ++state.in_flight;
      state.max_in_flight = std::max(state.max_in_flight, state.in_flight);
      state.changed.notify_all();
      if (state.hold_count > 0) {
        state.changed.wait_for(lock, state.hold_timeout,
                               [&] { return state.max_in_flight >= state.hold_count; });
      }
    }
    ~Serving() {
      // cpp-httplib leaves -1 for a handler that set no status and sends 200 then.
      call.status = response_.status == -1 ? 200 : response_.status;
      std::lock_guard lock(state_.mutex);
      --state_.in_flight;
      state_.calls.push_back(std::move(call));
    }
    Serving(const Serving&) = delete;
    Serving& operator=(const Serving&) = delete;

    OpenAiCall call;

   private:
    State& state_;
    httplib::Response& response_;
  };

  bool Authorized(const httplib::Request& request, httplib::Response& response) const {
    if (request.get_header_value("Authorization") == "Bearer " + options.api_key) return true;
    SendError(response, 401, "Incorrect API key provided.", "invalid_request_error",
              "invalid_api_key");
    return false;
  }

  bool Served(const std::string& model, httplib::Response& response) const {
    if (std::find(options.models.begin(), options.models.end(), model) != options.models.end()) {
      return true;
    }
    SendError(response, 404,
              fmt::format("The model `{}` does not exist or you do not have access to it.", model),
              "invalid_request_error", "model_not_found");
    return false;
  }

  std::optional<OpenAiFaultSpec> NextFault() {
    std::lock_guard lock(mutex);
    if (faults.empty()) return std::nullopt;
    OpenAiFaultSpec fault = faults.front();
    faults.pop_front();
    return fault;
  }

  // Answers the transport-level faults; true when the request is answered.
  bool TransportFault(const std::optional<OpenAiFaultSpec>& fault, httplib::Response& response) {
    if (!fault) return false;
    switch (fault->fault) {
      case OpenAiFault::kRateLimited:
        if (!fault->retry_after.empty()) response.set_header("Retry-After", fault->retry_after);
        if (!fault->retry_after_ms.empty()) {
          response.set_header("retry-after-ms", fault->retry_after_ms);
        }
        SendError(response, 429, "Rate limit reached for requests.", "requests",
                  "rate_limit_exceeded");
        return true;
      case OpenAiFault::kServerError:
        if (!fault->retry_after.empty()) response.set_header("Retry-After", fault->retry_after);
        SendError(response, fault->status, "The server had an error while processing your request.",
                  "server_error", "");
        return true;
      case OpenAiFault::kSlow: {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, fault->delay, [&] { return stopping; });
        return false;
      }
      case OpenAiFault::kMalformedBody:
        response.status = 200;
        response.set_content("{\"id\": \"chatcmpl-1\", \"choices\": [", kJsonType);
        return true;
      default:
        return false;
    }
  }

  // What is wrong with a chat body, or "".
  static std::string ChatProblem(const json& body, OpenAiCall& call) {
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      return "'messages' must be a non-empty array";
    }
    for (const json& message : body["messages"]) {
      if (!message.is_object() || !message.contains("role") || !message.contains("content")) {
        return "each message needs a role and content";
      }
      if (!message["content"].is_array()) continue;
      for (const json& part : message["content"]) {
        if (part.value("type", "") != "image_url") continue;
        const std::string url = part["image_url"].value("url", "");
        const std::string prefix = "data:image/jpeg;base64,";
        if (!url.starts_with(prefix)) return "image_url must be a data:image/jpeg;base64 URL";
        auto bytes = Base64Decode(std::string_view(url).substr(prefix.size()));
        if (!bytes) return "the image's base64 does not decode";
        std::string jpeg(bytes->begin(), bytes->end());
        if (std::string problem = JpegProblem(jpeg); !problem.empty()) {
          return "invalid_image: " + problem;
        }
        const std::string detail = part["image_url"].value("detail", "auto");
        if (detail != "low" && detail != "high" && detail != "auto") return "bad detail " + detail;
        ++call.images;
        call.image_details.push_back(detail);
      }
    }
    const json format = body.value("response_format", json::object());
    if (format.value("type", "") != "json_schema" || !format.contains("json_schema") ||
        !format["json_schema"].is_object() || !format["json_schema"]["name"].is_string() ||
        format["json_schema"].value("strict", false) != true ||
        !format["json_schema"]["schema"].is_object()) {
      return "response_format must be a strict json_schema with a name and a schema";
    }
    return "";
  }

  void Models(const httplib::Request& request, httplib::Response& response) {
    Serving serving(*this, request, response);
    if (!Authorized(request, response)) return;
    if (TransportFault(NextFault(), response)) return;
    json data = json::array();
    for (const std::string& id : options.models) {
      data.push_back(
          {{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "reprise-test"}});
    }
    response.set_content(json({{"object", "list"}, {"data", data}}).dump(), kJsonType);
  }

  void Chat(const httplib::Request& request, httplib::Response& response) {
    Serving serving(*this, request, response);
    if (!Authorized(request, response)) return;
    json body = json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
      return SendError(response, 400, "We could not parse the JSON body of your request.",
                       "invalid_request_error", "");
    }
    serving.call.body = body;
    serving.call.model = body.value("model", "");
    if (!Served(serving.call.model, response)) return;
    if (std::string problem = ChatProblem(body, serving.call); !problem.empty()) {
      return SendError(response, 400, problem, "invalid_request_error", "");
    }
    auto fault = NextFault();
    if (TransportFault(fault, response)) return;
    ChatScript script;
    int id = 0;
    {
      std::lock_guard lock(mutex);
      script = chat_script;
      id = ++answers;
    }
    const std::string content = script ? script(body).dump() : "{}";
    response.set_content(
        ChatAnswer(id, serving.call.model, content, fault, request.body.size()).dump(), kJsonType);
  }

  // OpenAI's chat.completion object carrying `content`, or what `fault` makes of it.
  static json ChatAnswer(int id, const std::string& model, const std::string& content,
                         const std::optional<OpenAiFaultSpec>& fault, size_t request_bytes) {
    json message = {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}};
    std::string finish = "stop";
    switch (fault ? fault->fault : OpenAiFault::kServerError) {  // no fault: as it is
      case OpenAiFault::kRefusal:
        message["content"] = nullptr;
        message["refusal"] = "I'm sorry, I can't help with that.";
        break;
      case OpenAiFault::kTruncated:
        message["content"] = content.substr(0, content.size() / 2);
        finish = "length";
        break;
      case OpenAiFault::kEmptyContent:
        message["content"] = "";
        break;
      case OpenAiFault::kNotJsonContent:
        message["content"] = "Here is a description of the scene: a dog runs.";
        break;
      default:  // transport faults were answered before the answer was made
        break;
    }
    // Roughly four bytes a token, as OpenAI's rule of thumb has it.
    const auto prompt_tokens = static_cast<int64_t>(request_bytes / 4) + 1;
    const auto completion_tokens = static_cast<int64_t>(content.size() / 4) + 1;
    return {
        {"id", fmt::format("chatcmpl-{}", id)},
        {"object", "chat.completion"},
        {"created", 1700000000},
        {"model", model + "-2024-test"},
        {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish}}})},
        {"usage",
         {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}}}};
  }

  void Transcriptions(const httplib::Request& request, httplib::Response& response) {
    Serving serving(*this, request, response);
    if (!Authorized(request, response)) return;
    if (!request.is_multipart_form_data() || !request.has_file("file")) {
      return SendError(response, 400, "expected multipart/form-data with a 'file'",
                       "invalid_request_error", "");
    }
    json fields = json::object();
    for (const auto& [name, part] : request.files) {
      if (name != "file") fields[name] = part.content;
    }
    serving.call.body = fields;
    serving.call.model = fields.value("model", "");
    const std::string wav = request.get_file_value("file").content;
    serving.call.wav_bytes = static_cast<int64_t>(wav.size());
    if (!Served(serving.call.model, response)) return;
    double seconds = 0;
    if (std::string problem = WavProblem(wav, &seconds); !problem.empty()) {
      return SendError(response, 400, "invalid_file: " + problem, "invalid_request_error",
                       "invalid_file");
    }
    if (fields.value("response_format", "") != "verbose_json") {
      return SendError(response, 400, "this server answers response_format=verbose_json only",
                       "invalid_request_error", "");
    }
    if (TransportFault(NextFault(), response)) return;
    TranscriptionScript script;
    {
      std::lock_guard lock(mutex);
      script = transcription_script;
    }
    response.set_content((script ? script(fields, seconds) : DefaultTranscription(seconds)).dump(),
                         kJsonType);
  }

  static json DefaultTranscription(double seconds) {
    json segments = json::array();
    std::string text;
    for (int i = 0; i * 2.0 < seconds; ++i) {
      const std::string words = fmt::format(" segment {}", i);
      segments.push_back({{"id", i},
                          {"start", i * 2.0},
                          {"end", std::min(seconds, i * 2.0 + 2.0)},
                          {"text", words}});
      text += words;
    }
    return {{"task", "transcribe"},
            {"language", "english"},
            {"duration", seconds},
            {"text", text},
            {"segments", segments}};
  }
};

OpenAiTestServer::OpenAiTestServer(Options options)
    : state_(std::make_unique<State>(std::move(options))) {
  State& s = *state_;
  const int threads = s.options.threads;
  s.server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  s.server.Get("/v1/models",
               [&s](const httplib::Request& q, httplib::Response& r) { s.Models(q, r); });
  s.server.Post("/v1/chat/completions",
                [&s](const httplib::Request& q, httplib::Response& r) { s.Chat(q, r); });
  s.server.Post("/v1/audio/transcriptions",
                [&s](const httplib::Request& q, httplib::Response& r) { s.Transcriptions(q, r); });
  s.port = s.server.bind_to_any_port("127.0.0.1");
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  while (!s.server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

OpenAiTestServer::~OpenAiTestServer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->hold_count = 0;
    state_->stopping = true;
  }
  state_->changed.notify_all();
  state_->server.stop();
  state_->thread.join();
}

std::string OpenAiTestServer::base_url() const {
  return fmt::format("http://127.0.0.1:{}/v1", state_->port);
}

int OpenAiTestServer::port() const { return state_->port; }

void OpenAiTestServer::SetChatScript(ChatScript script) {
  std::lock_guard lock(state_->mutex);
  state_->chat_script = std::move(script);
}

void OpenAiTestServer::SetChatAnswer(json value) {
  SetChatScript([value = std::move(value)](const json&) { return value; });
}

void OpenAiTestServer::SetTranscriptionScript(TranscriptionScript script) {
  std::lock_guard lock(state_->mutex);
  state_->transcription_script = std::move(script);
}

void OpenAiTestServer::QueueFaults(std::vector<OpenAiFaultSpec> faults) {
  std::lock_guard lock(state_->mutex);
  for (auto& fault : faults) state_->faults.push_back(std::move(fault));
}

void OpenAiTestServer::HoldUntilInFlight(int count, std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(state_->mutex);
    state_->hold_count = count;
    state_->hold_timeout = timeout;
  }
  state_->changed.notify_all();
}

std::vector<OpenAiCall> OpenAiTestServer::calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->calls;
}

int OpenAiTestServer::max_in_flight() const {
  std::lock_guard lock(state_->mutex);
  return state_->max_in_flight;
}

}  // namespace reprise::testing
