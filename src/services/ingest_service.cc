#include "services/ingest_service.h"

namespace reprise::services {
namespace {

// Shared by the ingest's and the session's callbacks, which outlive this call (the
// session polls `interrupted` while the caller waits on it).
struct StopState {
  std::function<bool()> signal;
  bool stop_pending = false;  // a stop seen during the ingest, still to hand to the session

  bool Poll() { return signal && signal(); }
};

}  // namespace

Result<IngestOutcome> IngestService::Ingest(const Caller& caller, const IngestRequest& request) {
  auto owner = caller.OwnerForNew(request.owner, defaults_.owner);
  if (!owner) return Fail(owner.error());
  ingest::Options options;
  options.owner = *owner;
  options.source = catalog::AssetSource::kScan;
  options.max_file_bytes = defaults_.max_file_bytes;
  options.job = defaults_.job;

  IngestOutcome outcome;
  auto stop = std::make_shared<StopState>();
  stop->signal = request.stop_signal;
  if (request.process) {
    options.stop_requested = [stop] {
      stop->stop_pending = stop->stop_pending || stop->Poll();
      return stop->stop_pending;
    };
    queue::ProcessOptions process;
    process.max_attempts = defaults_.max_attempts;
    process.interrupted = [stop] {
      if (stop->stop_pending) {
        stop->stop_pending = false;
        return true;
      }
      return stop->Poll();
    };
    auto begun = processor_.Begin(process);
    if (!begun) return Fail(begun.error());
    outcome.session = std::move(*begun);
    options.job = {};
    options.on_item = [&outcome, owner = options.owner](const ingest::ItemResult& item) {
      if (!item.asset || outcome.process_error) return;
      catalog::AssetFilter filter;
      filter.owner = owner;
      filter.ids = {item.asset->id};
      if (auto added = outcome.session->Add(filter); !added) outcome.process_error = added.error();
    };
  } else if (request.stop_signal) {
    options.stop_requested = [stop] { return stop->Poll(); };
  }
  outcome.summary = ingestor_.IngestPaths(request.paths, options, request.on_progress);
  return outcome;
}

}  // namespace reprise::services
