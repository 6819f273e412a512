#include "app/app.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "app/app_metrics.h"
#include "core/webhook_signature.h"
#include "media/ffmpeg.h"
#include "media/libav_log.h"
#include "services/catalog_request_limiter.h"
#include "services/webhooks.h"
#include "stages/builtin.h"

namespace reprise::app {
namespace {

int64_t Micros(double seconds) { return static_cast<int64_t>(seconds * 1e6); }

// The [costs.STAGE] per_1k_tokens prices the stages record their calls' cost with.
std::map<std::string, double, std::less<>> TokenPrices(
    const std::map<std::string, backfill::CostModel>& costs) {
  std::map<std::string, double, std::less<>> prices;
  for (const auto& [stage, cost] : costs) {
    if (cost.per_1k_tokens > 0) prices[stage] = cost.per_1k_tokens;
  }
  return prices;
}

}  // namespace

std::vector<catalog::StageLimit> StageLimitsOf(const Config& config) {
  std::vector<catalog::StageLimit> limits;
  for (const auto& [stage, limit] : config.stage_limits) {
    limits.push_back({stage, limit.max_running, limit.rate});
  }
  return limits;
}

Result<void> FillRegistry(stages::Registry& registry, const nlohmann::json& stage_config,
                          const std::vector<std::string>& enabled,
                          const stages::StageServices& services) {
  REPRISE_TRY(stages::AddBuiltinStages(registry, stage_config, enabled, services));
  return registry.Seal();
}

Result<std::unique_ptr<App>> App::Open(const Config& config, Logger log, Access access,
                                       const BackendRegistry& backends) {
  media::InitFfmpeg();
  media::RouteLibavLog(log);
  std::unique_ptr<App> app(new App(config, std::move(log)));
  auto costs = backfill::ParseCostModels(config.costs);
  if (!costs) return Fail(costs.error().Wrap("config"));
  // The stages' params and services are checked before any backend is opened, so a typo
  // in them is reported as such rather than hidden behind a missing catalog. (The stages
  // that run are made below, once the catalog their services' limiters use is open.)
  {
    auto directory = ai::ServiceDirectory::Create(config.services, app->clock_);
    if (!directory) return Fail(directory.error().Wrap("config"));
    stages::Registry registry;
    REPRISE_TRY(FillRegistry(registry, config.stages, config.pipeline_stages,
                             stages::StageServices(app->clock_, directory->get())));
  }

  const bool create = access == Access::kCreate;
  auto catalog = backends.OpenCatalog(config.ResolvedCatalogUrl(), app->clock_, create,
                                      config.CatalogUrlOrigin());
  if (!catalog && catalog.error().code == ErrorCode::kNotFound) return Fail(catalog.error());
  if (!catalog) return Fail(catalog.error().Wrap("cannot open catalog"));
  app->catalog_ = std::move(*catalog);
  // Live streams and the webhook runner hear committed events at once (the catalog, and
  // with it the listener, goes before the bell).
  app->catalog_->AddChangeListener(services::BellListener(*app->event_bell_));
  auto blobs =
      backends.OpenBlobStore(config.ResolvedBlobUrl(), create, config.BlobUrlOrigin(), config.blob);
  if (!blobs && blobs.error().code == ErrorCode::kNotFound) return Fail(blobs.error());
  if (!blobs) return Fail(blobs.error().Wrap("cannot open blob store"));
  app->blobs_ = std::move(*blobs);

  // The services' limits hold across every process on this catalog: their limiters keep
  // their permits in it. The stages get the clients (and so need the catalog open).
  App* owner = app.get();
  auto directory = ai::ServiceDirectory::Create(
      config.services, app->clock_,
      [owner](const std::string& name, const ServiceSettings& settings,
              ai::Sleeper& sleeper) -> Result<std::unique_ptr<ai::RequestLimiter>> {
        services::CatalogLimiterOptions options;
        options.service = name;
        options.holder = queue::MakeWorkerId(0);
        options.limits = {settings.max_concurrent, settings.requests_per_minute};
        // One attempt at most, and a minute more: a killed holder's permit frees itself.
        options.lease = std::chrono::microseconds(Micros(settings.timeout_seconds + 60));
        auto limiter = services::CatalogRequestLimiter::Create(std::move(options), *owner->catalog_,
                                                               owner->clock_, sleeper);
        if (!limiter) return Fail(std::move(limiter.error()));
        return std::unique_ptr<ai::RequestLimiter>(std::move(*limiter));
      });
  if (!directory) return Fail(directory.error().Wrap("config"));
  app->service_directory_ = std::move(*directory);
  REPRISE_TRY(FillRegistry(
      app->registry_, config.stages, config.pipeline_stages,
      stages::StageServices(app->clock_, app->service_directory_.get(), TokenPrices(*costs))));

  app->ingestor_ =
      std::make_unique<ingest::Ingestor>(*app->catalog_, *app->blobs_, app->clock_, app->log_);
  App* self = app.get();
  app->processor_ = std::make_unique<queue::Processor>(
      *app->catalog_, app->registry_, app->clock_,
      [self](int concurrency, const std::vector<std::string>& stages) {
        auto options = self->WorkerDefaults();
        if (concurrency > 0) options.concurrency = concurrency;
        options.stages = stages;
        return self->NewWorker(std::move(options));
      });
  app->backfills_ = std::make_unique<backfill::Service>(
      *app->catalog_, *app->blobs_, app->registry_, app->clock_, app->log_, std::move(*costs),
      app->WorkerDefaults().concurrency, app->service_directory_.get());
  app->metrics_ = std::make_unique<metrics::Metrics>();
  app->metrics_->SetCollector([self] { return CollectSnapshot(*self->catalog_, self->clock_); });
  app->tokens_ = std::make_unique<services::TokensService>(*app->catalog_, app->clock_, app->log_);
  app->MakeServices();
  app->imports_ = std::make_unique<services::ImportService>(
      *app->catalog_, services::ImportSettingsFrom(config, app->IngestJob()));
  auto webhooks = services::WebhookReceiver::Create(config.webhook_sources, config.owner,
                                                    *app->imports_, app->clock_);
  if (!webhooks) return Fail(webhooks.error().Wrap("config"));
  app->webhooks_ = std::move(*webhooks);
  app->media_ = std::make_unique<services::MediaService>(*app->catalog_, *app->imports_);
  return app;
}

void App::MakeServices() {
  assets_ = std::make_unique<services::AssetsService>(*catalog_, *blobs_, registry_, log_);
  ingest_ = std::make_unique<services::IngestService>(
      *ingestor_, *processor_,
      services::IngestDefaults{config_.owner, config_.max_ingest_bytes, config_.queue.max_attempts,
                               IngestJob()});
  jobs_ = std::make_unique<services::JobsService>(*catalog_);
  queue_ = std::make_unique<services::QueueService>(*catalog_, *backfills_, clock_);
  stages_ = std::make_unique<services::StagesService>(*catalog_, registry_, StageLimitsOf(config_));
  duplicates_ = std::make_unique<services::DuplicatesService>(*catalog_);
  search_ = std::make_unique<services::SearchService>(*catalog_);
  backfill_service_ = std::make_unique<services::Backfills>(*backfills_, *catalog_, clock_,
                                                            config_.queue.max_attempts);
  process_service_ = std::make_unique<services::Process>(*processor_, *catalog_, registry_,
                                                         config_.queue.max_attempts);
}

Result<std::unique_ptr<services::WebhookRunner>> App::NewWebhookRunner() {
  const WebhooksConfig& config = config_.webhooks;
  services::WebhookRunnerOptions options;
  options.max_attempts = config.max_attempts;
  options.backoff_base = std::chrono::microseconds(Micros(config.backoff_base_seconds));
  options.backoff_max = std::chrono::microseconds(Micros(config.backoff_max_seconds));
  options.lease = std::chrono::microseconds(Micros(config.timeout_seconds * 2 + 60));
  options.event_retention = std::chrono::microseconds(Micros(config.event_retention_days * 86400));
  for (const auto& entry : config.subscriptions) {
    if (auto secret = WebhookSecret::Parse(entry.secret); !secret) {
      return Fail(secret.error().Wrap("webhooks.subscriptions " + entry.url));
    }
    options.configured.push_back(
        {entry.owner, entry.url, entry.secret, entry.events, entry.description});
  }
  net::WebhookSenderOptions sender;
  sender.timeout = std::chrono::milliseconds(static_cast<int64_t>(config.timeout_seconds * 1000));
  sender.connect_timeout = std::min(sender.timeout, sender.connect_timeout);
  sender.addresses = services::WebhookAddressRules(config);
  return std::make_unique<services::WebhookRunner>(
      *catalog_, std::make_unique<net::CurlWebhookSender>(sender), *event_bell_, clock_, random_,
      std::move(options), log_);
}

std::unique_ptr<backfill::Pump> App::NewBackfillPump(int64_t lease_micros) {
  return std::make_unique<backfill::Pump>(
      *catalog_, clock_, log_, queue::MakeWorkerId(++workers_made_) + "/backfills",
      Micros(config_.queue.poll_seconds),
      lease_micros > 0 ? lease_micros : Micros(config_.queue.lease_seconds));
}

std::unique_ptr<services::ImportRunner> App::NewImportRunner() {
  return std::make_unique<services::ImportRunner>(
      *catalog_, *blobs_, clock_, random_, log_, *imports_,
      queue::MakeWorkerId(++workers_made_) + "/imports");
}

catalog::NewJob App::IngestJob() const {
  catalog::NewJob job;
  for (const auto* stage : registry_.All()) job.stages.emplace_back(stage->Name());
  job.priority = catalog::kLivePriority;
  job.max_attempts = config_.queue.max_attempts;
  return job;
}

queue::WorkerOptions App::WorkerDefaults() {
  const auto& q = config_.queue;
  queue::WorkerOptions options;
  options.worker_id = queue::MakeWorkerId(++workers_made_);
  options.concurrency = q.concurrency > 0
                            ? q.concurrency
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  options.lease_micros = Micros(q.lease_seconds);
  options.heartbeat_micros = Micros(q.heartbeat_seconds);
  options.poll_micros = Micros(q.poll_seconds);
  options.reserved_live_share = q.reserved_live_share;
  options.max_attempts = q.max_attempts;
  options.backoff_base_micros = Micros(q.backoff_base_seconds);
  options.backoff_max_micros = Micros(q.backoff_max_seconds);
  options.quarantine_threshold = q.quarantine_after;
  options.grace_micros = Micros(q.grace_seconds);
  options.limits = StageLimitsOf(config_);
  return options;
}

std::unique_ptr<queue::Worker> App::NewWorker(queue::WorkerOptions options) {
  auto make_executor = [this] {
    return std::make_unique<queue::Executor>(*catalog_, *blobs_, registry_, clock_, log_);
  };
  auto worker = std::make_unique<queue::Worker>(*catalog_, std::move(make_executor), registry_,
                                                clock_, random_, log_, std::move(options));
  ObserveWorker(*metrics_, *worker);
  return worker;
}

}  // namespace reprise::app
