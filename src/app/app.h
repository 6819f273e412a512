// App: the one place that constructs concrete classes. It reads the Config, opens the
// catalog and blob backends its URLs name through a BackendRegistry (by scheme:
// "sqlite:", "fs:", plain paths; app/backends/builtin_backends.h registers them), fills
// the stage registry, and owns the services (services/) that the CLI and the HTTP API
// call. Nothing else names a backend class.
#pragma once

#include <atomic>
#include <memory>

#include "app/backend_registry.h"
#include "app/backends/builtin_backends.h"
#include "backfill/pump.h"
#include "backfill/service.h"
#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/random.h"
#include "ingest/ingest.h"
#include "metrics/metrics.h"
#include "queue/executor.h"
#include "queue/process.h"
#include "queue/worker.h"
#include "services/assets_service.h"
#include "services/backfills.h"
#include "services/duplicates_service.h"
#include "services/event_bell.h"
#include "services/import_runner.h"
#include "services/import_service.h"
#include "services/ingest_service.h"
#include "services/jobs_service.h"
#include "services/media_service.h"
#include "services/process.h"
#include "services/queue_service.h"
#include "services/search_service.h"
#include "services/stages_service.h"
#include "services/tokens_service.h"
#include "services/webhook_receiver.h"
#include "services/webhook_runner.h"
#include "stages/registry.h"
#include "stages/stage_services.h"

namespace reprise::app {

class App {
 public:
  // kCreate (commands that write): a missing catalog, its folder and the blob store are
  // created. kExisting (commands that only read): nothing is created; a missing catalog
  // or blob store is kNotFound naming the path and the setting it came from, so a
  // mistyped path is not taken for an empty library.
  enum class Access { kCreate, kExisting };

  // Opens the backends (creating them as `access` allows) and brings the catalog schema
  // up to date. kInvalidArgument for an unknown scheme or bad stage params, kNotFound
  // (kExisting) for a missing backend, kIo/kUnavailable when a backend cannot be opened.
  // `backends` is read during the call only; the default (every backend of this build)
  // makes the caller link reprise_app_backends.
  static Result<std::unique_ptr<App>> Open(const Config& config, Logger log,
                                           Access access = Access::kCreate,
                                           const BackendRegistry& backends = BuiltinBackends());

  const Config& config() const { return config_; }
  catalog::Catalog& catalog() { return *catalog_; }
  blob::BlobStore& blobs() { return *blobs_; }
  const stages::Registry& registry() const { return registry_; }
  // The configured [services] (core/config.h), one client and limiter each.
  const ai::ServiceDirectory& service_directory() const { return *service_directory_; }
  const Clock& clock() const { return clock_; }
  Random& random() { return random_; }
  const Logger& log() const { return log_; }

  ingest::Ingestor& ingestor() { return *ingestor_; }
  queue::Processor& processor() { return *processor_; }
  backfill::Service& backfills() { return *backfills_; }
  // The process's Prometheus metrics: its gauges read this app's catalog at scrape time,
  // and every worker pool NewWorker() makes counts its jobs in it.
  metrics::Metrics& metrics() { return *metrics_; }
  services::TokensService& tokens() { return *tokens_; }

  // The services the command line and the HTTP API call (services/).
  services::AssetsService& assets() { return *assets_; }
  services::IngestService& ingest() { return *ingest_; }
  services::JobsService& jobs() { return *jobs_; }
  services::QueueService& queue() { return *queue_; }
  services::StagesService& stages() { return *stages_; }
  services::DuplicatesService& duplicates() { return *duplicates_; }
  services::SearchService& search() { return *search_; }
  // What the command line and the API call for backfills, rollbacks and process runs.
  services::Backfills& backfill_service() { return *backfill_service_; }
  services::Process& process_service() { return *process_service_; }
  services::ImportService& imports() { return *imports_; }
  services::WebhookReceiver& webhooks() { return *webhooks_; }
  const services::MediaService& media() const { return *media_; }
  // Rung by the catalog after each commit of this process that wrote events.
  services::EventBell& event_bell() { return *event_bell_; }

  // What ingest enqueues for a new asset, in the transaction that inserts it: every
  // registered stage, at live priority.
  catalog::NewJob IngestJob() const;
  // Worker settings from the [queue] config, with a fresh worker id.
  queue::WorkerOptions WorkerDefaults();
  // A worker pool over this app's catalog, blob store and registry (not started).
  std::unique_ptr<queue::Worker> NewWorker(queue::WorkerOptions options);
  // Drives backfills nobody drives (started detached, or whose driver died); not started.
  // Its driver leases last `lease_micros` (0: queue.lease_seconds), the lease of the
  // workers beside it, so a killed process's backfill is taken over as soon as its jobs.
  std::unique_ptr<backfill::Pump> NewBackfillPump(int64_t lease_micros = 0);
  // Runs URL imports ([import] concurrency threads) once started; not started. It is
  // woken whenever imports() queues one, until it is destroyed.
  std::unique_ptr<services::ImportRunner> NewImportRunner();
  // Sends outgoing webhooks from the [webhooks] config (not started). kInvalidArgument
  // for a configured subscription whose secret is not a whsec_ secret.
  Result<std::unique_ptr<services::WebhookRunner>> NewWebhookRunner();

 private:
  App(Config config, Logger log) : config_(std::move(config)), log_(std::move(log)) {}
  void MakeServices();  // once the backends are open

  Config config_;
  Logger log_;
  SystemClock clock_;
  SeededRandom random_ = SeededRandom::FromEntropy();
  std::atomic<int> workers_made_{0};  // the n of worker ids host:pid:n
  // Before catalog_: the catalog's listener rings it until the catalog is gone.
  std::unique_ptr<services::EventBell> event_bell_ = std::make_unique<services::EventBell>();
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<blob::BlobStore> blobs_;
  // The [services] clients the stages were given: before the registry, which holds them.
  std::unique_ptr<ai::ServiceDirectory> service_directory_;
  stages::Registry registry_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<queue::Processor> processor_;
  std::unique_ptr<backfill::Service> backfills_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<services::TokensService> tokens_;
  std::unique_ptr<services::AssetsService> assets_;
  std::unique_ptr<services::IngestService> ingest_;
  std::unique_ptr<services::JobsService> jobs_;
  std::unique_ptr<services::QueueService> queue_;
  std::unique_ptr<services::StagesService> stages_;
  std::unique_ptr<services::DuplicatesService> duplicates_;
  std::unique_ptr<services::SearchService> search_;
  std::unique_ptr<services::Backfills> backfill_service_;
  std::unique_ptr<services::Process> process_service_;
  std::unique_ptr<services::ImportService> imports_;
  std::unique_ptr<services::WebhookReceiver> webhooks_;
  std::unique_ptr<services::MediaService> media_;
};

// The [stages.NAME] max_running / rate settings as the limits a worker's claims carry.
std::vector<catalog::StageLimit> StageLimitsOf(const Config& config);

// Builds the registry from the [stages] config (shared by App and the tests); stages that
// call services get them from `services`.
Result<void> FillRegistry(stages::Registry& registry, const nlohmann::json& stage_config,
                          const std::vector<std::string>& enabled = {},
                          const stages::StageServices& services = {});

}  // namespace reprise::app
