#include "services/webhook_runner.h"

#include <algorithm>
#include <cmath>

#include "core/webhook_signature.h"

namespace reprise::services {
namespace {

constexpr int64_t kPruneEveryMicros = 3600LL * 1'000'000;

}  // namespace

int64_t RetryDelayMicros(int failed_attempts, const WebhookRunnerOptions& options, Random& random) {
  const double base = static_cast<double>(options.backoff_base.count());
  const double cap = static_cast<double>(options.backoff_max.count());
  const int doublings = std::clamp(failed_attempts - 1, 0, 62);
  const double ceiling = std::min(cap, base * std::ldexp(1.0, doublings));
  return static_cast<int64_t>(ceiling / 2 + random.Uniform() * ceiling / 2);
}

WebhookRunner::WebhookRunner(catalog::Catalog& catalog, std::unique_ptr<net::WebhookSender> sender,
                             EventBell& bell, const Clock& clock, Random& random,
                             WebhookRunnerOptions options, Logger log)
    : catalog_(catalog),
      sender_(std::move(sender)),
      bell_(bell),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      log_(std::move(log)) {}

WebhookRunner::~WebhookRunner() { Stop(); }

Result<void> WebhookRunner::Start() {
  REPRISE_TRY(catalog_.SyncConfigWebhookSubscriptions(options_.configured));
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void WebhookRunner::Stop() {
  stopping_ = true;
  bell_.Nudge();
  if (thread_.joinable()) thread_.join();
}

Result<void> WebhookRunner::Deliver(const catalog::WebhookDelivery& delivery) {
  auto subscription = catalog_.GetWebhookSubscription(delivery.subscription_id, {});
  if (!subscription) return Fail(subscription.error());  // deleted meanwhile: nothing to do
  auto secret = WebhookSecret::Parse(subscription->secret);
  if (!secret) return Fail(secret.error());
  const std::string id = "dlv_" + std::to_string(delivery.id);
  const int64_t timestamp = clock_.NowMicros() / 1'000'000;
  net::WebhookSender::Headers headers = {
      {std::string(kWebhookIdHeader), id},
      {std::string(kWebhookTimestampHeader), std::to_string(timestamp)},
      {std::string(kWebhookSignatureHeader),
       SignWebhook(*secret, id, timestamp, delivery.payload)}};
  const int64_t started = clock_.MonotonicMicros();
  auto status = sender_->Post(subscription->url, headers, delivery.payload);
  catalog::WebhookAttempt attempt;
  attempt.duration_micros = clock_.MonotonicMicros() - started;
  // A refused address or a URL that is not http(s) fails the same way every time.
  bool permanent = false;
  if (!status) {
    attempt.error = status.error().message;
    permanent = status.error().code == ErrorCode::kInvalidArgument;
  } else {
    attempt.status_code = *status;
    if (*status < 200 || *status > 299) attempt.error = "HTTP " + std::to_string(*status);
  }
  std::optional<int64_t> retry_at;
  const int failed = delivery.attempts + 1;
  if (!attempt.error.empty() && !permanent && failed < options_.max_attempts) {
    retry_at = clock_.NowMicros() + RetryDelayMicros(failed, options_, random_);
  }
  auto recorded = catalog_.RecordWebhookAttempt(delivery.id, attempt, retry_at);
  if (!recorded) return Fail(recorded.error());
  if (options_.on_attempt) options_.on_attempt(*recorded);
  if (recorded->state == catalog::DeliveryState::kFailed) {
    log_->warn("webhook delivery {} ({} to {}) failed after {} attempt(s): {}", delivery.id,
               delivery.event_type, subscription->url, recorded->attempts, attempt.error);
  } else if (!attempt.error.empty()) {
    log_->info("webhook delivery {} to {}: {}; retrying", delivery.id, subscription->url,
               attempt.error);
  }
  return {};
}

Result<std::optional<int64_t>> WebhookRunner::RunOnce() {
  // Until a claim comes back empty: its next_due_at then reflects the retries just
  // scheduled and other senders' leases.
  while (!stopping_) {
    auto claim = catalog_.ClaimWebhookDeliveries(options_.batch,
                                                 static_cast<int64_t>(options_.lease.count()));
    if (!claim) return Fail(claim.error());
    if (claim->deliveries.empty()) return claim->next_due_at;
    for (const auto& delivery : claim->deliveries) {
      if (auto sent = Deliver(delivery); !sent) {
        log_->warn("webhook delivery {}: {}", delivery.id, sent.error().ToString());
      }
    }
  }
  return std::optional<int64_t>();
}

void WebhookRunner::Loop() {
  int64_t next_prune = clock_.NowMicros();
  while (!stopping_) {
    int64_t now = clock_.NowMicros();
    if (options_.event_retention.count() > 0 && now >= next_prune) {
      auto pruned = catalog_.PruneEvents(now - options_.event_retention.count());
      if (!pruned) log_->warn("pruning events: {}", pruned.error().ToString());
      next_prune = now + kPruneEveryMicros;
    }
    const int64_t rung = bell_.newest();
    auto next = RunOnce();
    int64_t wait = options_.idle_poll.count();
    if (!next) {
      log_->warn("webhook deliveries: {}", next.error().ToString());
    } else if (*next) {
      wait = std::clamp<int64_t>(**next - clock_.NowMicros(), 0, wait);
    }
    if (wait > 0 && !stopping_) bell_.Wait(rung, std::chrono::microseconds(wait));
  }
}

}  // namespace reprise::services
