#include "blob/s3/s3_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "blob/s3/xml.h"
#include "core/hash.h"

namespace reprise::blob::s3 {

struct S3Client::Request {
  std::string_view operation;
  std::string method = "GET";
  std::string key;  // "" addresses the bucket
  NameValues query;
  NameValues headers;  // besides Host and what signing adds
  std::string_view body;
  std::string payload_hash = std::string(kEmptyPayloadSha256);
  int part_number = 0;
};

struct S3Client::Response {
  int status = 0;
  NameValues headers;  // names in lower case
  std::string body;
  int attempts = 1;

  std::string Header(std::string_view name) const {
    for (const auto& [header, value] : headers) {
      if (header == name) return value;
    }
    return "";
  }
};

S3ErrorBody ParseErrorBody(std::string_view body) {
  S3ErrorBody error;
  if (body.find("<Error") == std::string_view::npos) return error;
  auto parsed = ParseXml(body, [&](std::string_view path, std::string_view text) {
    if (path == "Error/Code") error.code = text;
    if (path == "Error/Message") error.message = text;
  });
  (void)parsed;  // an unreadable error body leaves the status to speak
  return error;
}

namespace {

// More than this of an answer's body is never wanted (a list page is ~300 KB).
constexpr size_t kMaxResponseBody = 16 * 1024 * 1024;
// How far a GET may run ahead of its reader before the transfer pauses.
constexpr size_t kStreamAhead = 1024 * 1024;
constexpr char kDefaultContentType[] = "application/octet-stream";

bool IsRetryableCode(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string LowerCase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "HTTP/1.1 200 OK" -> 200; 0 when the line is not a status line.
int StatusOfLine(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/") return 0;
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  return std::atoi(std::string(line.substr(space + 1, 3)).c_str());
}

// "Name: value\r\n" -> {"name", "value"}; nullopt for other lines.
std::optional<std::pair<std::string, std::string>> HeaderOfLine(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::make_pair(LowerCase(line.substr(0, colon)), Trimmed(line.substr(colon + 1)));
}

net::CurlSlistPtr HeaderList(const NameValues& headers) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    // "Name;" is how curl sends a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    list = curl_slist_append(list, line.c_str());
  }
  // Never "Expect: 100-continue": a reset injected mid-body must reach the server, and
  // radosgw answers auth failures without it anyway.
  list = curl_slist_append(list, "Expect:");
  return net::CurlSlistPtr(list);
}

void CommonOptions(CURL* h, const std::string& url, const curl_slist* headers,
                   const S3ClientOptions& options, char* error_buffer) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "reprise-s3/1");
  curl_easy_setopt(
      h, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(options.connect_timeout.count()));  // NOLINT(google-runtime-int)
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options.stall_timeout.count()));  // NOLINT(google-runtime-int)
}

std::string Describe(std::string_view operation, std::string_view key) {
  return key.empty() ? std::string(operation) : fmt::format("{} of '{}'", operation, key);
}

Error ErrorOfResponse(const S3Client::Response& response, std::string_view operation,
                      std::string_view key) {
  S3ErrorBody s3 = ParseErrorBody(response.body);
  std::string message =
      fmt::format("S3 {} failed: HTTP {}", Describe(operation, key), response.status);
  if (!s3.code.empty()) message += " " + s3.code;
  if (!s3.message.empty()) message += ": " + s3.message;
  if (response.status == 401 || response.status == 403) {
    message +=
        " (check the access key id and secret, e.g. AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, and the region)";
  }
  if (response.attempts > 1) message += fmt::format(" (after {} attempts)", response.attempts);
  return Error{ErrorCodeOfAnswer(response.status, s3.code), message,
               "http:" + std::to_string(response.status)};
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// A GET whose body is pulled by the reader: curl's multi interface drives the one
// transfer, pausing it when the reader falls behind.
class CurlObjectStream final : public ObjectStream {
 public:
  CurlObjectStream(std::string url, net::CurlSlistPtr headers, bool inject_reset)
      : url_(std::move(url)), headers_(std::move(headers)), inject_reset_(inject_reset) {}

  ~CurlObjectStream() override {
    if (multi_ && easy_) curl_multi_remove_handle(multi_.get(), easy_.get());
  }
  CurlObjectStream(const CurlObjectStream&) = delete;
  CurlObjectStream& operator=(const CurlObjectStream&) = delete;

  // Sends the request and waits for the answer's status and headers (or its end).
  Result<void> Start(const S3ClientOptions& options) {
    multi_.reset(curl_multi_init());
    easy_.reset(curl_easy_init());
    if (!multi_ || !easy_) return Fail(ErrorCode::kInternal, "cannot create a curl handle");
    CURL* h = easy_.get();
    CommonOptions(h, url_, headers_.get(), options, error_.data());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_multi_add_handle(multi_.get(), h);
    while (!headers_done_ && !done_) REPRISE_TRY(Pump());
    if (done_ && !headers_done_) return TransferError();
    return {};
  }

  // The whole (error) answer, once the status is not a success.
  Result<void> Finish() {
    while (!done_) REPRISE_TRY(Pump());
    return {};
  }

  int status() const { return status_; }
  const std::string& error_body() const { return error_body_; }

  Result<size_t> Read(std::span<std::byte> buffer) override {
    while (true) {
      size_t available = buffer_.size() - consumed_;
      if (available > 0) {
        size_t n = std::min(available, buffer.size());
        std::memcpy(buffer.data(), buffer_.data() + consumed_, n);
        consumed_ += n;
        if (consumed_ == buffer_.size()) {
          buffer_.clear();
          consumed_ = 0;
        } else if (consumed_ >= kStreamAhead / 2) {
          buffer_.erase(0, consumed_);
          consumed_ = 0;
        }
        return n;
      }
      if (buffer.empty()) return size_t{0};
      if (done_) {
        if (result_ != CURLE_OK || injected_) return TransferError();
        return size_t{0};
      }
      REPRISE_TRY(Pump());
    }
  }

  int64_t ContentLength() const override { return content_length_; }
  const std::string& ETag() const override { return etag_; }

 private:
  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<CurlObjectStream*>(user);
    std::string_view line(data, size * count);
    if (int status = StatusOfLine(line); status != 0) {
      self->status_ = status;
      self->content_length_ = -1;
      self->etag_.clear();
    } else if (line == "\r\n" || line == "\n") {
      if (self->status_ >= 200) self->headers_done_ = true;
    } else if (auto header = HeaderOfLine(line)) {
      if (header->first == "content-length") {
        self->content_length_ = std::atoll(header->second.c_str());
      } else if (header->first == "etag") {
        self->etag_ = header->second;
      }
    }
    return size * count;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<CurlObjectStream*>(user);
    size_t length = size * count;
    if (!IsSuccess(self->status_)) {
      if (self->error_body_.size() < 64 * 1024) self->error_body_.append(data, length);
      return length;
    }
    if (self->inject_reset_ && self->delivered_ > 0) {
      self->injected_ = true;
      return 0;  // aborts the transfer: the test's stand-in for a reset connection
    }
    if (self->buffer_.size() - self->consumed_ >= kStreamAhead) {
      self->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;  // curl keeps these bytes and offers them again later
    }
    self->buffer_.append(data, length);
    self->delivered_ += static_cast<int64_t>(length);
    return length;
  }

  Result<void> Pump() {
    if (paused_ && buffer_.size() - consumed_ < kStreamAhead) {
      paused_ = false;
      curl_easy_pause(easy_.get(), CURLPAUSE_CONT);
    }
    size_t before = buffer_.size();
    int running = 0;
    if (CURLMcode rc = curl_multi_perform(multi_.get(), &running); rc != CURLM_OK) {
      return Fail(ErrorCode::kInternal,
                  std::string("curl_multi_perform: ") + curl_multi_strerror(rc));
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) {
        done_ = true;
        result_ = message->data.result;
      }
    }
    if (!done_ && !paused_ && buffer_.size() == before) {
      curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
    }
    return {};
  }

  tl::unexpected<Error> TransferError() const {
    if (injected_) {
      return Fail(ErrorCode::kUnavailable,
                  "S3 GET of " + url_ + " cut off (connection reset injected by a test)",
                  "curl:injected");
    }
    std::string detail = error_[0] != '\0' ? error_.data() : curl_easy_strerror(result_);
    return Fail(ErrorCode::kUnavailable, "S3 GET of " + url_ + " failed: " + detail,
                "curl:" + std::to_string(static_cast<int>(result_)));
  }

  std::string url_;
  net::CurlSlistPtr headers_;
  net::CurlMultiPtr multi_;
  net::CurlEasyPtr easy_;
  std::array<char, CURL_ERROR_SIZE> error_{};
  bool inject_reset_;
  bool injected_ = false;
  int status_ = 0;
  bool headers_done_ = false;
  bool done_ = false;
  bool paused_ = false;
  CURLcode result_ = CURLE_OK;
  int64_t content_length_ = -1;
  std::string etag_;
  std::string error_body_;
  std::string buffer_;  // received, not yet read from `consumed_` on
  size_t consumed_ = 0;
  int64_t delivered_ = 0;
};

// What one blocking transfer needs from its callbacks.
struct Exchange {
  std::string_view body;
  size_t sent = 0;
  size_t cut_at = std::numeric_limits<size_t>::max();  // injected reset after this many
  bool cut_on_answer = false;
  bool injected = false;
  S3Client::Response* response = nullptr;
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  if (exchange->sent >= exchange->cut_at) {
    exchange->injected = true;
    return CURL_READFUNC_ABORT;
  }
  size_t n = std::min(
      {size * count, exchange->body.size() - exchange->sent, exchange->cut_at - exchange->sent});
  std::memcpy(buffer, exchange->body.data() + exchange->sent, n);
  exchange->sent += n;
  return n;
}

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (exchange->cut_on_answer) {
    exchange->injected = true;
    return 0;
  }
  if (int status = StatusOfLine(line); status != 0) {
    exchange->response->status = status;
    exchange->response->headers.clear();
  } else if (auto header = HeaderOfLine(line)) {
    exchange->response->headers.push_back(std::move(*header));
  }
  return size * count;
}

size_t OnBodyBytes(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  size_t length = size * count;
  if (exchange->response->body.size() + length > kMaxResponseBody) return 0;
  exchange->response->body.append(data, length);
  return length;
}

}  // namespace

bool IsRetryableAnswer(int status, std::string_view code) {
  return status >= 500 || status == 429 || IsRetryableCode(code);
}

ErrorCode ErrorCodeOfAnswer(int status, std::string_view s3_code) {
  if (status >= 500 || status == 429 || IsRetryableCode(s3_code)) return ErrorCode::kUnavailable;
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 401 || status == 403) return ErrorCode::kPermissionDenied;
  if (status == 409 || status == 412) return ErrorCode::kConflict;
  return ErrorCode::kIo;
}

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {
  if (options_.random == nullptr) {
    std::random_device device;
    own_random_ =
        std::make_unique<SeededRandom>((static_cast<uint64_t>(device()) << 32) ^ device());
  }
  net::CurlGlobal();
}

S3Client::~S3Client() = default;

std::string S3Client::Now() const {
  SystemClock system;
  const Clock& clock = options_.clock != nullptr ? *options_.clock : system;
  return AmzDate(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(clock.NowMicros()))));
}

std::chrono::milliseconds S3Client::Backoff(int attempt) {
  Random& random = options_.random != nullptr ? *options_.random : *own_random_;
  double ceiling =
      std::min(static_cast<double>(options_.retry.max_delay.count()),
               static_cast<double>(options_.retry.base_delay.count()) * std::pow(2.0, attempt - 1));
  return std::chrono::milliseconds(static_cast<int64_t>(random.Uniform() * ceiling));
}

std::pair<std::string, NameValues> S3Client::Signed(const Request& request) const {
  const S3Location& location = options_.location;
  SigV4Request sig;
  sig.method = request.method;
  sig.path = location.PathOf(request.key);
  sig.query = request.query;
  sig.headers.emplace_back("Host", location.HostHeader());
  for (const auto& header : request.headers) sig.headers.push_back(header);
  sig.payload_hash = request.payload_hash;
  SignRequest(sig, options_.credentials, SigningScope{location.region, "s3"}, Now());
  std::string url = location.scheme + "://" + location.HostHeader() + UriEncode(sig.path, true);
  if (!request.query.empty()) url += "?" + CanonicalQuery(request.query);
  return {std::move(url), std::move(sig.headers)};
}

net::CurlEasyPtr S3Client::Acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      net::CurlEasyPtr handle = std::move(pool_.back());
      pool_.pop_back();
      curl_easy_reset(handle.get());  // keeps the handle's open connections
      return handle;
    }
  }
  return net::CurlEasyPtr(curl_easy_init());
}

void S3Client::Release(net::CurlEasyPtr handle) {
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < 16) pool_.push_back(std::move(handle));
}

Result<S3Client::Response> S3Client::PerformOnce(const Request& request, int attempt) {
  auto [url, headers] = Signed(request);
  net::CurlSlistPtr header_list = HeaderList(headers);
  net::CurlEasyPtr easy = Acquire();
  if (!easy) return Fail(ErrorCode::kInternal, "cannot create a curl handle");
  Response response;
  Exchange exchange;
  exchange.body = request.body;
  exchange.response = &response;
  if (options_.fault_hook &&
      options_.fault_hook({request.operation, request.key, request.part_number, attempt}) ==
          InjectedFault::kConnectionReset) {
    if (request.body.empty()) {
      exchange.cut_on_answer = true;
    } else {
      exchange.cut_at = request.body.size() / 2;
    }
  }
  std::array<char, CURL_ERROR_SIZE> error{};
  CURL* h = easy.get();
  CommonOptions(h, url, header_list.get(), options_, error.data());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeaderLine);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBodyBytes);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &exchange);
  const auto body_size = static_cast<curl_off_t>(request.body.size());
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, body_size);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &exchange);
  } else if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &exchange);
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  Release(std::move(easy));
  if (exchange.injected) {
    return Fail(ErrorCode::kUnavailable,
                "S3 " + Describe(request.operation, request.key) +
                    " cut off (connection reset injected by a test)",
                "curl:injected");
  }
  if (rc != CURLE_OK) {
    std::string detail = error[0] != '\0' ? error.data() : curl_easy_strerror(rc);
    return Fail(ErrorCode::kUnavailable,
                "S3 " + Describe(request.operation, request.key) + " failed: " + detail,
                "curl:" + std::to_string(static_cast<int>(rc)));
  }
  response.attempts = attempt;
  return response;
}

Result<S3Client::Response> S3Client::Perform(const Request& request) {
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto response = PerformOnce(request, attempt);
    bool retry = response ? IsRetryableAnswer(response->status, ParseErrorBody(response->body).code)
                          : response.error().code == ErrorCode::kUnavailable;
    if (!retry || attempt >= max_attempts) {
      if (!response && attempt > 1) {
        return Fail(response.error().Wrap(fmt::format("after {} attempts", attempt)));
      }
      return response;
    }
    std::this_thread::sleep_for(Backoff(attempt));
  }
}

Result<void> S3Client::PutObject(std::string_view key, std::string_view body,
                                 std::string_view body_sha256_hex, std::string_view content_type) {
  Request request;
  request.operation = "PutObject";
  request.method = "PUT";
  request.key = std::string(key);
  request.headers.emplace_back(
      "Content-Type", content_type.empty() ? kDefaultContentType : std::string(content_type));
  request.body = body;
  request.payload_hash = std::string(body_sha256_hex);
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status)) return Fail(ErrorOfResponse(*response, "PutObject", key));
  return {};
}

Result<std::string> S3Client::CreateMultipartUpload(std::string_view key,
                                                    std::string_view content_type) {
  Request request;
  request.operation = "CreateMultipartUpload";
  request.method = "POST";
  request.key = std::string(key);
  request.query = {{"uploads", ""}};
  request.headers.emplace_back(
      "Content-Type", content_type.empty() ? kDefaultContentType : std::string(content_type));
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status)) {
    return Fail(ErrorOfResponse(*response, "CreateMultipartUpload", key));
  }
  std::string upload_id;
  REPRISE_TRY(ParseXml(response->body, [&](std::string_view path, std::string_view text) {
    if (path == "InitiateMultipartUploadResult/UploadId") upload_id = text;
  }));
  if (upload_id.empty()) {
    return Fail(ErrorCode::kIo, "S3 CreateMultipartUpload of '" + std::string(key) +
                                    "' answered without an UploadId");
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(std::string_view key, std::string_view upload_id,
                                         int part_number, std::string_view body) {
  Request request;
  request.operation = "UploadPart";
  request.method = "PUT";
  request.key = std::string(key);
  request.query = {{"partNumber", std::to_string(part_number)},
                   {"uploadId", std::string(upload_id)}};
  request.body = body;
  request.payload_hash = HexLower(Sha256Of(body));
  request.part_number = part_number;
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status)) {
    return Fail(ErrorOfResponse(*response, fmt::format("UploadPart {}", part_number), key));
  }
  std::string etag = response->Header("etag");
  if (etag.empty()) {
    return Fail(ErrorCode::kIo,
                fmt::format("S3 UploadPart {} of '{}' answered without an ETag", part_number, key));
  }
  return etag;
}

Result<void> S3Client::CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                               const std::vector<std::string>& etags,
                                               int64_t total_size) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1,
                        XmlEscape(etags[i]));
  }
  body += "</CompleteMultipartUpload>";
  Request request;
  request.operation = "CompleteMultipartUpload";
  request.method = "POST";
  request.key = std::string(key);
  request.query = {{"uploadId", std::string(upload_id)}};
  request.headers.emplace_back("Content-Type", "application/xml");
  request.body = body;
  request.payload_hash = HexLower(Sha256Of(body));
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int round = 1;; ++round) {
    auto response = Perform(request);
    if (!response) return Fail(std::move(response.error()));
    S3ErrorBody s3 = ParseErrorBody(response->body);
    if (IsSuccess(response->status) && s3.code.empty()) return {};
    if (response->status == 404 && s3.code == "NoSuchUpload" &&
        (response->attempts > 1 || round > 1)) {
      // An earlier attempt may have completed the upload and lost its answer.
      auto head = HeadObject(key);
      if (head && head->has_value() && (*head)->size == total_size) return {};
    }
    // S3 can fail a completion inside a 200 answer; a retryable code there is retried too.
    if (IsSuccess(response->status) && IsRetryableCode(s3.code) && round < max_attempts) {
      std::this_thread::sleep_for(Backoff(round));
      continue;
    }
    Response failed = *response;
    if (IsSuccess(failed.status)) failed.status = 500;
    return Fail(ErrorOfResponse(failed, "CompleteMultipartUpload", key));
  }
}

Result<void> S3Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id) {
  Request request;
  request.operation = "AbortMultipartUpload";
  request.method = "DELETE";
  request.key = std::string(key);
  request.query = {{"uploadId", std::string(upload_id)}};
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status) && response->status != 404) {
    return Fail(ErrorOfResponse(*response, "AbortMultipartUpload", key));
  }
  return {};
}

Result<std::optional<ObjectHead>> S3Client::HeadObject(std::string_view key) {
  Request request;
  request.operation = "HeadObject";
  request.method = "HEAD";
  request.key = std::string(key);
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (response->status == 404) return std::optional<ObjectHead>();
  if (!IsSuccess(response->status)) return Fail(ErrorOfResponse(*response, "HeadObject", key));
  ObjectHead head;
  head.size = std::atoll(response->Header("content-length").c_str());
  head.etag = response->Header("etag");
  head.content_type = response->Header("content-type");
  return std::optional<ObjectHead>(std::move(head));
}

Result<void> S3Client::DeleteObject(std::string_view key) {
  Request request;
  request.operation = "DeleteObject";
  request.method = "DELETE";
  request.key = std::string(key);
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status) && response->status != 404) {
    return Fail(ErrorOfResponse(*response, "DeleteObject", key));
  }
  return {};
}

Result<ListPage> S3Client::ListObjectsV2(std::string_view prefix,
                                         std::string_view continuation_token, int max_keys) {
  Request request;
  request.operation = "ListObjectsV2";
  request.query = {
      {"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"prefix", std::string(prefix)}};
  if (!continuation_token.empty()) {
    request.query.emplace_back("continuation-token", std::string(continuation_token));
  }
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status)) {
    return Fail(
        ErrorOfResponse(*response, "ListObjectsV2 of prefix '" + std::string(prefix) + "'", ""));
  }
  ListPage page;
  ObjectSummary current;
  bool truncated = false;
  REPRISE_TRY(ParseXml(response->body, [&](std::string_view path, std::string_view text) {
    if (path == "ListBucketResult/Contents/Key") {
      current.key = text;
    } else if (path == "ListBucketResult/Contents/Size") {
      current.size = std::atoll(std::string(text).c_str());
    } else if (path == "ListBucketResult/Contents") {
      page.objects.push_back(std::move(current));
      current = ObjectSummary{};
    } else if (path == "ListBucketResult/NextContinuationToken") {
      page.next_continuation_token = text;
    } else if (path == "ListBucketResult/IsTruncated") {
      truncated = text == "true";
    }
  }));
  if (!truncated) {
    page.next_continuation_token.clear();
  } else if (page.next_continuation_token.empty()) {
    return Fail(ErrorCode::kIo,
                "S3 ListObjectsV2 answered a truncated page without a continuation token");
  }
  return page;
}

Result<std::unique_ptr<ObjectStream>> S3Client::GetObject(std::string_view key, int64_t offset,
                                                          std::string_view if_match) {
  Request request;
  request.operation = "GetObject";
  request.key = std::string(key);
  if (offset > 0) request.headers.emplace_back("Range", fmt::format("bytes={}-", offset));
  if (!if_match.empty()) request.headers.emplace_back("If-Match", std::string(if_match));
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    bool inject =
        options_.fault_hook && options_.fault_hook({request.operation, request.key, 0, attempt}) ==
                                   InjectedFault::kConnectionReset;
    auto [url, headers] = Signed(request);
    auto stream = std::make_unique<CurlObjectStream>(url, HeaderList(headers), inject);
    auto started = stream->Start(options_);
    bool retry = false;
    if (!started) {
      if (started.error().code != ErrorCode::kUnavailable || attempt >= max_attempts) {
        return Fail(std::move(started.error()));
      }
      retry = true;
    } else if (!IsSuccess(stream->status())) {
      REPRISE_TRY(stream->Finish());
      Response response;
      response.status = stream->status();
      response.body = stream->error_body();
      response.attempts = attempt;
      if (!IsRetryableAnswer(response.status, ParseErrorBody(response.body).code) ||
          attempt >= max_attempts) {
        return Fail(ErrorOfResponse(response, "GetObject", key));
      }
      retry = true;
    }
    if (!retry) return std::unique_ptr<ObjectStream>(std::move(stream));
    std::this_thread::sleep_for(Backoff(attempt));
  }
}

Result<void> S3Client::CreateBucket() {
  Request request;
  request.operation = "CreateBucket";
  request.method = "PUT";
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status) &&
      ParseErrorBody(response->body).code != "BucketAlreadyOwnedByYou") {
    return Fail(ErrorOfResponse(*response, "CreateBucket " + options_.location.bucket, ""));
  }
  return {};
}

Result<void> S3Client::DeleteBucket() {
  Request request;
  request.operation = "DeleteBucket";
  request.method = "DELETE";
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status) && response->status != 404) {
    return Fail(ErrorOfResponse(*response, "DeleteBucket " + options_.location.bucket, ""));
  }
  return {};
}

Result<std::vector<std::string>> S3Client::ListMultipartUploads(std::string_view prefix) {
  Request request;
  request.operation = "ListMultipartUploads";
  request.query = {{"prefix", std::string(prefix)}, {"uploads", ""}};
  auto response = Perform(request);
  if (!response) return Fail(std::move(response.error()));
  if (!IsSuccess(response->status)) {
    return Fail(ErrorOfResponse(*response, "ListMultipartUploads", prefix));
  }
  std::vector<std::string> keys;
  REPRISE_TRY(ParseXml(response->body, [&](std::string_view path, std::string_view text) {
    if (path == "ListMultipartUploadsResult/Upload/Key") keys.emplace_back(text);
  }));
  return keys;
}

std::string S3Client::PresignGetUrl(std::string_view key, int64_t signed_at,
                                    std::chrono::seconds expires) const {
  const S3Location& location = options_.location;
  SigV4Request request;
  request.method = "GET";
  request.path = location.PathOf(key);
  request.headers.emplace_back("host", location.HostHeader());
  std::string query = PresignQuery(
      request, options_.credentials, SigningScope{location.region, "s3"},
      AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(signed_at))), expires);
  return location.scheme + "://" + location.HostHeader() + UriEncode(request.path, true) + "?" +
         query;
}

}  // namespace reprise::blob::s3
