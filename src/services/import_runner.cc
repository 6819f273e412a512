#include "services/import_runner.h"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "core/byte_pipe.h"
#include "ingest/ingest.h"
#include "net/url_fetcher.h"
#include "queue/retry_policy.h"

namespace reprise::services {

ImportRunner::ImportRunner(catalog::Catalog& catalog, blob::BlobStore& blobs, const Clock& clock,
                           Random& random, Logger log, ImportService& service,
                           std::string runner_id)
    : catalog_(catalog),
      blobs_(blobs),
      clock_(clock),
      random_(random),
      log_(std::move(log)),
      service_(service),
      settings_(service.settings()),
      runner_id_(std::move(runner_id)) {}

ImportRunner::~ImportRunner() { Stop(); }

void ImportRunner::Start() {
  stopping_ = false;
  service_.SetOnQueued([this] { Wake(); });
  // Imports queued by other processes (a webhook received by another server).
  listener_id_ = catalog_.AddChangeListener([this](const catalog::Change& change) {
    if (change.Has(catalog::ChangeTopic::kImports)) Wake();
  });
  for (int i = 0; i < settings_.concurrency; ++i) threads_.emplace_back([this] { Loop(); });
}

void ImportRunner::Stop() {
  if (!threads_.empty()) service_.SetOnQueued(nullptr);
  if (listener_id_ != 0) catalog_.RemoveChangeListener(std::exchange(listener_id_, 0));
  stopping_ = true;
  Wake();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void ImportRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void ImportRunner::Loop() {
  while (!stopping_) {
    auto ran = RunOne();
    if (!ran) log_->warn("imports: {}", ran.error().ToString());
    if (ran && *ran) continue;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::microseconds(settings_.poll_micros),
                   [this] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

Result<bool> ImportRunner::RunOne() {
  auto claimed = catalog_.ClaimImport(runner_id_, settings_.lease_micros, settings_.max_attempts);
  if (!claimed) return Fail(claimed.error());
  if (!claimed->has_value()) return false;
  const catalog::Import& import = **claimed;
  log_->info("import {}: downloading {} (attempt {})", import.id, import.url, import.attempts);
  auto outcome = Run(import);
  if (!outcome) return true;
  const bool passing = outcome->state == catalog::ImportState::kFailed && outcome->error &&
                       outcome->error->code == ErrorCode::kUnavailable;
  if (passing && import.attempts < settings_.max_attempts) {
    const queue::RetryPolicy policy{settings_.max_attempts, settings_.backoff_base_micros,
                                    settings_.backoff_max_micros};
    const int64_t delay = queue::BackoffDelay(policy, import.attempts, random_);
    outcome->state = catalog::ImportState::kQueued;
    outcome->retry_at = clock_.NowMicros() + delay;
    log_->warn("import {}: {}; attempt {} of {}, next in {:.1f} s", import.id,
               outcome->error->message, import.attempts, settings_.max_attempts,
               static_cast<double>(delay) / 1e6);
  }
  auto finished = catalog_.FinishImport(import.id, runner_id_, *outcome);
  if (!finished) {
    if (finished.error().code == ErrorCode::kConflict) return true;  // taken over meanwhile
    return Fail(finished.error());
  }
  if (finished->state == catalog::ImportState::kFailed) {
    log_->warn("import {} failed: {}", import.id, finished->error_message);
  } else if (finished->state == catalog::ImportState::kDone) {
    log_->info("import {} done: asset {} ({} bytes)", import.id, outcome->asset_id, outcome->bytes);
  }
  return true;
}

std::optional<catalog::ImportOutcome> ImportRunner::Run(const catalog::Import& import) {
  const std::string name = fmt::format("import {} ({})", import.id, import.url);
  BytePipe pipe(kPipeBytes, name);
  std::atomic<bool> lease_lost{false};

  std::string content_type;
  std::optional<Error> fetch_error;  // the download's own error, said as it is
  std::thread download([&] {
    net::UrlFetcher fetcher(settings_.fetch);
    auto fetched = fetcher.Fetch(
        import.url,
        [&](std::span<const std::byte> chunk) {
          return !stopping_ && !lease_lost && pipe.Write(chunk);
        },
        [&](const net::FetchResult& response) { content_type = response.content_type; });
    if (fetched) {
      pipe.Finish();
    } else if (fetched.error().code == ErrorCode::kCancelled && stopping_) {
      pipe.Finish(Error{ErrorCode::kCancelled, "the server is shutting down", ""});
    } else {
      fetch_error = fetched.error();
      pipe.Finish(fetched.error());
    }
  });

  ingest::Ingestor ingestor(catalog_, blobs_, clock_, log_);
  ingest::StreamInfo info;
  info.name = name;
  info.original_name = import.name;
  info.source_uri = import.url;
  info.parent_id = import.parent_id;
  ingest::Options options;
  options.owner = import.owner;
  options.source = import.source;
  options.max_file_bytes = settings_.fetch.max_bytes;
  options.job = settings_.job;
  int64_t renewed_at = clock_.MonotonicMicros();
  // Progress is worth a write a second; the lease needs one per third of it.
  const int64_t renew_every =
      std::max<int64_t>(1, std::min<int64_t>(1'000'000, settings_.lease_micros / 3));
  auto on_bytes = [&](int64_t bytes) {
    int64_t now = clock_.MonotonicMicros();
    if (lease_lost || now - renewed_at < renew_every) return;
    renewed_at = now;
    auto renewed = catalog_.RenewImport(import.id, runner_id_, bytes, settings_.lease_micros);
    if (!renewed && renewed.error().code == ErrorCode::kConflict) lease_lost = true;
    if (!renewed) log_->warn("import {}: {}", import.id, renewed.error().ToString());
  };
  ingest::ItemResult item = ingestor.IngestStream(pipe, info, options, on_bytes);
  pipe.CloseReader();  // a download still pushing stops at its next chunk
  download.join();

  if (lease_lost) {
    log_->warn("import {}: lease lost to another runner; leaving it to them", import.id);
    return std::nullopt;
  }
  catalog::ImportOutcome outcome;
  outcome.bytes = item.bytes;
  switch (item.outcome) {
    case ingest::Outcome::kAdded:
    case ingest::Outcome::kExisted:
      outcome.state = catalog::ImportState::kDone;
      outcome.asset_id = item.asset->id;
      return outcome;
    case ingest::Outcome::kSkipped:
      outcome.state = catalog::ImportState::kFailed;
      if (item.skip_reason == "too_large") {
        outcome.error = Error{ErrorCode::kInvalidArgument,
                              fmt::format("{} is larger than the limit of {} bytes", import.url,
                                          settings_.fetch.max_bytes),
                              ""};
      } else {
        outcome.error =
            Error{ErrorCode::kUnsupportedMedia,
                  fmt::format("{} is not media ({} bytes{})", import.url, item.bytes,
                              content_type.empty() ? "" : ", Content-Type " + content_type),
                  ""};
      }
      return outcome;
    case ingest::Outcome::kError:
      break;
  }
  Error error = fetch_error && fetch_error->code != ErrorCode::kCancelled
                    ? *fetch_error
                    : item.error.value_or(Error{ErrorCode::kInternal, "ingest failed", ""});
  if (error.code == ErrorCode::kCancelled && stopping_) {
    outcome.state = catalog::ImportState::kQueued;  // given back; another runner takes it
    return outcome;
  }
  outcome.state = catalog::ImportState::kFailed;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace reprise::services
