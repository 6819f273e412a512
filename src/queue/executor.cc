#include "queue/executor.h"

#include <exception>

#include "blob/keys.h"
#include "media/content_type.h"
#include "media/libav_log.h"
#include "queue/job_inputs.h"
#include "stages/runner.h"

namespace reprise::queue {
namespace {

using catalog::DerivativeState;

// Writers returned to a stage commit under the attempt's folder; the sink remembers
// every committed file so a failed attempt can be cleaned up and a successful one
// recorded.
class AttemptSink final : public stages::OutputSink {
 public:
  AttemptSink(blob::BlobStore& blobs, std::string prefix)
      : blobs_(blobs), prefix_(std::move(prefix)) {}

  Result<std::unique_ptr<blob::BlobWriter>> Create(std::string_view name) override {
    std::string key = prefix_ + std::string(name);
    REPRISE_TRY(blob::ValidateKey(key));
    auto writer = blobs_.NewWriter();
    if (!writer) return Fail(writer.error());
    return std::unique_ptr<blob::BlobWriter>(std::make_unique<BoundWriter>(
        std::move(*writer), std::string(name), std::move(key), *this));
  }

  void Add(catalog::OutputBlob blob) override {
    for (auto& existing : blobs_written_) {
      if (existing.key == blob.key) {
        existing = std::move(blob);
        return;
      }
    }
    blobs_written_.push_back(std::move(blob));
  }

  bool Has(const std::string& key) const {
    for (const auto& existing : blobs_written_) {
      if (existing.key == key) return true;
    }
    return false;
  }

  const std::vector<catalog::OutputBlob>& written() const { return blobs_written_; }
  std::vector<std::string> committed_keys() const { return committed_keys_; }

 private:
  // Commits under the key chosen by the sink whatever name the stage passes, so a
  // stage can never write outside its attempt folder.
  class BoundWriter final : public blob::BlobWriter {
   public:
    BoundWriter(std::unique_ptr<blob::BlobWriter> inner, std::string name, std::string key,
                AttemptSink& sink)
        : inner_(std::move(inner)), name_(std::move(name)), key_(std::move(key)), sink_(sink) {}
    Result<void> Write(std::span<const std::byte> data) override { return inner_->Write(data); }
    int64_t BytesWritten() const override { return inner_->BytesWritten(); }
    void SetContentType(std::string_view content_type) override {
      typed_ = true;
      inner_->SetContentType(content_type);
    }
    Result<blob::BlobInfo> Commit(std::string_view /*key*/) override {
      // A stage that names no type still gets the one its file name says.
      if (!typed_) inner_->SetContentType(media::ContentTypeForName(name_));
      auto info = inner_->Commit(key_);
      if (info) {
        sink_.committed_keys_.push_back(key_);
        // Recorded even if the stage forgets Add(); Add() later fills in the type.
        if (!sink_.Has(key_)) sink_.Add({name_, key_, info->size, ""});
      }
      return info;
    }

   private:
    std::unique_ptr<blob::BlobWriter> inner_;
    std::string name_;
    std::string key_;
    AttemptSink& sink_;
    bool typed_ = false;
  };

  blob::BlobStore& blobs_;
  std::string prefix_;
  std::vector<catalog::OutputBlob> blobs_written_;
  std::vector<std::string> committed_keys_;
};

}  // namespace

std::vector<catalog::StageRecipe> RecipesOf(const stages::Registry& registry,
                                            const std::vector<const stages::Stage*>& stages) {
  std::vector<catalog::StageRecipe> recipes;
  recipes.reserve(stages.size());
  for (const auto* stage : stages) {
    recipes.push_back({std::string(stage->Name()), registry.Recipe(stage->Name())});
  }
  return recipes;
}

Result<int> Executor::CloseAbandonedAttempts(const catalog::Asset& asset,
                                             const std::vector<const stages::Stage*>& stages) {
  auto rows = catalog_.ListDerivatives(asset.id);
  if (!rows) return Fail(rows.error());
  int closed = 0;
  for (const auto& row : *rows) {
    if (row.state != DerivativeState::kRunning) continue;
    bool ours = false;
    for (const auto* stage : stages) ours |= stage->Name() == row.stage;
    if (!ours) continue;
    std::string folder = blob::DerivativeKey(asset.id, row.stage, std::to_string(row.id), "");
    std::vector<std::string> keys;
    REPRISE_TRY(blobs_.List(folder, [&](const blob::BlobInfo& info) {
      keys.push_back(info.key);
      return true;
    }));
    for (const auto& key : keys) REPRISE_TRY(blobs_.Delete(key));
    catalog::DerivativeOutcome outcome;
    outcome.state = DerivativeState::kFailed;
    outcome.error = Error{ErrorCode::kUnavailable,
                          "abandoned: its worker stopped before finishing the attempt", ""};
    auto completed = catalog_.CompleteDerivative(row.id, outcome);
    // kConflict: its worker finished it after all, between the listing and now.
    if (!completed && completed.error().code != ErrorCode::kConflict) {
      return Fail(completed.error());
    }
    if (completed) {
      ++closed;
      log_->warn("asset {} stage {}: closed abandoned attempt {} ({} file(s) removed)", asset.id,
                 row.stage, row.id, keys.size());
    }
  }
  return closed;
}

Result<catalog::AssetStatus> Executor::ComputeStatus(const std::string& asset_id) {
  auto statuses = catalog_.GetStageStatuses(asset_id, RecipesOf(registry_, registry_.All()));
  if (!statuses) return Fail(statuses.error());
  bool pending = false;
  for (auto status : *statuses) {
    if (status == catalog::StageStatus::kFailed) return catalog::AssetStatus::kFailed;
    if (status == catalog::StageStatus::kMissing || status == catalog::StageStatus::kOutdated) {
      pending = true;
    }
  }
  return pending ? catalog::AssetStatus::kPending : catalog::AssetStatus::kReady;
}

Result<AssetReport> Executor::RunAsset(const catalog::Asset& asset,
                                       const std::vector<const stages::Stage*>& due,
                                       const stages::RunOptions& options,
                                       StatusWhileRunning while_running) {
  int64_t started = clock_.MonotonicMicros();
  AssetReport report;
  report.asset_id = asset.id;
  if (due.empty()) {
    auto status = ComputeStatus(asset.id);
    if (!status) return Fail(status.error());
    report.status = *status;
    return report;
  }
  if (while_running == StatusWhileRunning::kProcessing) {
    REPRISE_TRY(catalog_.SetAssetStatus(asset.id, catalog::AssetStatus::kProcessing));
  }

  // Consumers read inputs built earlier in this job (recorded as each wave of the run
  // ends) or, for inputs the job does not run, found in the catalog.
  JobInputs inputs(blobs_);
  REPRISE_TRY(inputs.LoadFromCatalog(catalog_, registry_, asset.id, due));
  std::vector<int64_t> rows;
  std::vector<std::unique_ptr<AttemptSink>> sinks;
  std::vector<stages::StageTask> items;
  for (const auto* stage : due) {
    auto row = catalog_.StartDerivative(asset.id, stage->Name(), stage->Version(),
                                        registry_.Recipe(stage->Name()), stage->Params());
    if (!row) return Fail(row.error());
    rows.push_back(*row);
    std::string prefix = blob::DerivativeKey(asset.id, stage->Name(), std::to_string(*row), "");
    sinks.push_back(std::make_unique<AttemptSink>(blobs_, prefix));
    items.push_back({stage, sinks.back().get(), stage->Inputs().empty() ? nullptr : &inputs});
  }

  // libav's complaints about this input go to the debug log with the asset, and their
  // number onto each derivative of the run (they share one decode of the input).
  std::string stage_names;
  for (const auto* stage : due) {
    stage_names += (stage_names.empty() ? "" : ",") + std::string(stage->Name());
  }
  media::LibavLogScope libav_log("asset " + asset.id + " stages " + stage_names);
  // Records one stage's outcome: its derivative row completed (a failed or skipped
  // attempt keeps no files; the current result is elsewhere) and, for consumers later in
  // the run, its result.
  std::vector<bool> completed(due.size(), false);
  report.stages.resize(due.size());  // in the order of `due`, whatever order they end in
  std::optional<Error> catalog_error;
  auto complete = [&](size_t i, catalog::DerivativeOutcome outcome) {
    if (libav_log.warnings() > 0 && outcome.metadata.is_object()) {
      outcome.metadata["libav_warnings"] = libav_log.warnings();
    }
    if (outcome.state != DerivativeState::kDone) {
      for (const auto& key : sinks[i]->committed_keys()) {
        if (auto deleted = blobs_.Delete(key); !deleted) {
          log_->warn("cannot remove {} of a failed attempt: {}", key, deleted.error().ToString());
        }
      }
    }
    inputs.Record(due[i]->Name(), outcome.state, outcome.skip_reason, outcome.error,
                  outcome.metadata, outcome.blobs);
    completed[i] = true;
    auto done = catalog_.CompleteDerivative(rows[i], outcome);
    if (!done && !catalog_error) catalog_error = done.error();
    report.stages[i] = {std::string(due[i]->Name()), outcome.state, outcome.skip_reason,
                        outcome.error, rows[i]};
  };

  // Any error opening or running the input fails every stage with the same reason.
  std::optional<Error> input_error;
  stages::RunOptions run_options = options;
  run_options.on_outcome = [&](size_t i, const stages::StageOutcome& outcome) {
    complete(i, stages::ToDerivativeOutcome(outcome, sinks[i]->written()));
  };
  auto input = blobs_.Open(asset.original_key);
  if (!input) {
    input_error = input.error().Wrap("cannot open original of asset " + asset.id);
  } else {
    try {
      auto ran = stages::RunStages(**input, items, run_options);
      if (ran) {
        report.stats = ran->stats;
        if (ran->demux_error) {
          log_->warn("asset {}: input ended early: {}", asset.id, ran->demux_error->ToString());
        }
      } else {
        input_error = ran.error();
      }
    } catch (const std::exception& e) {
      input_error = Error{ErrorCode::kInternal, std::string("stage runner threw: ") + e.what(), ""};
    }
  }

  // Stages the run never reached (the input could not be opened, the runner threw).
  for (size_t i = 0; i < due.size(); ++i) {
    if (completed[i]) continue;
    catalog::DerivativeOutcome outcome;
    outcome.state = DerivativeState::kFailed;
    outcome.error = input_error.value_or(
        Error{ErrorCode::kInternal, "the stage runner ended without an outcome for it", ""});
    complete(i, std::move(outcome));
  }
  if (catalog_error) return Fail(*catalog_error);

  auto status = ComputeStatus(asset.id);
  if (!status) return Fail(status.error());
  REPRISE_TRY(catalog_.SetAssetStatus(asset.id, *status));
  report.status = *status;
  report.seconds = static_cast<double>(clock_.MonotonicMicros() - started) / 1e6;
  for (const auto& stage : report.stages) {
    if (stage.error) {
      log_->warn("asset {} stage {} failed: {}", asset.id, stage.stage, stage.error->ToString());
    }
  }
  log_->info("asset {} ran {} stage(s) in {:.3f}s -> {}", asset.id, report.stages.size(),
             report.seconds, catalog::Name(report.status));
  return report;
}

}  // namespace reprise::queue
