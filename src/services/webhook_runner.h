// WebhookRunner: sends the webhook deliveries the catalog holds (written by the state
// changes themselves, see catalog.h), on one background thread of `reprise serve`.
// Workers never wait for it: they only write rows in their own transactions.
//
// Each delivery is a JSON POST of its frozen payload, signed with the Standard Webhooks
// scheme under its subscription's secret: webhook-id "dlv_<delivery id>" (the same on
// every retry, so receivers can drop duplicates), webhook-timestamp (the attempt's
// time), webhook-signature. A 2xx answer delivers it; anything else (another status, a
// refused connection, a timeout) is recorded as an attempt and retried after
// RetryDelayMicros() until max_attempts, then the delivery is failed. A send that fails
// kInvalidArgument (a receiver address the rules refuse, a URL that is not http(s)) would
// fail alike every time: that attempt fails the delivery at once, its error recorded. Deliveries
// are leased while in flight, so several servers on one catalog never send one at once, and one
// whose sender died is sent again when its lease ends (at least once).
//
// Deliveries are sent one at a time, so a receiver that hangs delays the others by up to
// the send timeout per attempt; the attempt log shows it.
//
// The thread wakes when this process commits an event (EventBell), when the next retry
// is due, or every idle_poll for other processes' work. It also prunes events older
// than event_retention once an hour.
//
// Thread-safety: Start/Stop from one thread; RunOnce() is for tests that drive the
// runner themselves (do not mix it with a started runner).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "net/webhook_sender.h"
#include "services/event_bell.h"

namespace reprise::services {

struct WebhookRunnerOptions {
  int max_attempts = 8;
  std::chrono::microseconds backoff_base{5'000'000};     // the first retry's ceiling...
  std::chrono::microseconds backoff_max{3'600'000'000};  // ...doubling up to this
  std::chrono::microseconds lease{120'000'000};          // longer than a send's timeout
  std::chrono::microseconds idle_poll{5'000'000};
  std::chrono::microseconds event_retention{30LL * 24 * 3600 * 1'000'000};  // 0: keep all
  int batch = 16;
  // Subscriptions from the config file: synced into the catalog by Start().
  std::vector<catalog::NewWebhookSubscription> configured;
  // Told of every attempt once recorded (the delivery as it stands after it), on the
  // runner's thread: for metrics and for tests that wait for an outcome.
  std::function<void(const catalog::WebhookDelivery&)> on_attempt;
};

// How long to wait after `failed_attempts` (>= 1) failures: a ceiling of backoff_base
// doubling per failure up to backoff_max, and a uniform draw in [ceiling/2, ceiling]
// so that receivers coming back are not hit by every sender at once.
int64_t RetryDelayMicros(int failed_attempts, const WebhookRunnerOptions& options, Random& random);

class WebhookRunner final {
 public:
  WebhookRunner(catalog::Catalog& catalog, std::unique_ptr<net::WebhookSender> sender,
                EventBell& bell, const Clock& clock, Random& random, WebhookRunnerOptions options,
                Logger log);
  ~WebhookRunner();
  WebhookRunner(const WebhookRunner&) = delete;
  WebhookRunner& operator=(const WebhookRunner&) = delete;

  // Syncs the configured subscriptions (errors: as CatalogSyncConfigWebhookSubscriptions)
  // and starts the thread.
  [[nodiscard]] Result<void> Start();
  // Stops after the send in flight, if any.
  void Stop();

  // Claims what is due and sends it; returns when the next delivery is due, if any.
  [[nodiscard]] Result<std::optional<int64_t>> RunOnce();

 private:
  void Loop();
  // Sends one delivery and records the attempt.
  [[nodiscard]] Result<void> Deliver(const catalog::WebhookDelivery& delivery);

  catalog::Catalog& catalog_;
  std::unique_ptr<net::WebhookSender> sender_;
  EventBell& bell_;
  const Clock& clock_;
  Random& random_;
  WebhookRunnerOptions options_;
  Logger log_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace reprise::services
