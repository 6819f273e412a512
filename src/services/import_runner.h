// ImportRunner: the background half of URL imports. Each of its threads claims a queued
// import (or one whose runner's lease expired: a killed server's download is taken
// again), downloads it through a UrlFetcher and streams the bytes into
// Ingestor::IngestStream through a bounded BytePipe (a download thread pushes, ingest
// pulls; memory stays one pipe of kPipeBytes whatever the size). Progress (bytes) is
// recorded and the lease renewed as bytes arrive. The import ends:
//   done     with the asset (new, or the same content already there for this owner); a
//            new asset's stages are queued in the transaction that inserts it
//   failed   with the precise error: the fetcher's ("http 404 from <url>", a timeout, a
//            refused address, over the size limit) or ingest's ("not media", broken
//            media), code and message kept
//   queued   again, keeping its id, after a passing failure (kUnavailable: 5xx, 429, a
//            timeout, a reset connection, DNS) while fewer than settings.max_attempts
//            tries were made: the error is kept and the import is not claimed before
//            now + queue::BackoffDelay (exponential, full jitter) — a time stored in its
//            row, so a server restarted meanwhile loses nothing. kNotFound (404),
//            kInvalidArgument (a refused address, over the limit) and the rest are final.
// Stop() interrupts running downloads and gives their imports back (queued again); a
// runner whose lease was taken over stops without finishing the import. While started,
// the runner is woken by every import the ImportService queues, and by the catalog's
// change notifications (imports queued by other processes, where the backend hears them).
//
// Thread-safety: Start/Stop/Wake from any thread; RunOne may run beside the threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "services/import_service.h"

namespace reprise::services {

class ImportRunner final {
 public:
  static constexpr size_t kPipeBytes = 1 << 20;

  // Settings come from `service`, which must outlive the runner.
  ImportRunner(catalog::Catalog& catalog, blob::BlobStore& blobs, const Clock& clock,
               Random& random, Logger log, ImportService& service, std::string runner_id);
  ~ImportRunner();
  ImportRunner(const ImportRunner&) = delete;
  ImportRunner& operator=(const ImportRunner&) = delete;

  // Starts settings.concurrency threads.
  void Start();
  // Stops claiming, interrupts downloads under way (their imports are queued again) and
  // joins the threads. Idempotent.
  void Stop();
  // Makes idle threads look for work now (an import was queued).
  void Wake();

  // Claims one due import and runs it to its end in the calling thread: true when there
  // was one, false when none was due.
  [[nodiscard]] Result<bool> RunOne();

  const std::string& runner_id() const { return runner_id_; }

 private:
  void Loop();
  // Downloads and ingests one claimed import; the outcome to record, or nullopt when the
  // lease was lost (nothing must be recorded).
  std::optional<catalog::ImportOutcome> Run(const catalog::Import& import);

  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  const Clock& clock_;
  Random& random_;
  Logger log_;
  ImportService& service_;
  const ImportSettings settings_;
  const std::string runner_id_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
  int64_t listener_id_ = 0;  // the catalog's change listener while started
};

}  // namespace reprise::services
