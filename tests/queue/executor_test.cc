// The executor against the real parts (SQLite file, blob directory, FFmpeg): outcomes are
// recorded per stage, a failed attempt never replaces the current result and leaves no
// files, and one broken stage does not stop the others.
#include "queue/executor.h"

#include <atomic>

#include <gtest/gtest.h>

#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"

namespace reprise::queue {
namespace {

using catalog::DerivativeState;

struct FlakyControl {
  std::atomic<bool> fail{false};
  std::atomic<bool> throw_in_finish{false};
};

// Writes "out.txt" on every run, then fails or throws when told to: so a test can see
// that a failed attempt's files are removed.
class FlakyStage final : public stages::Stage {
 public:
  explicit FlakyStage(FlakyControl& control) : control_(control) {}
  std::string_view Name() const override { return "flaky"; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  stages::Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo&) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<stages::StageRun>> Start(const media::MediaInfo&) const override {
    return std::unique_ptr<stages::StageRun>(std::make_unique<Run>(control_));
  }

 private:
  class Run final : public stages::StageRun {
   public:
    explicit Run(FlakyControl& control) : control_(control) {}
    Result<stages::StageResult> Finish(stages::OutputSink& sink, bool) override {
      auto written = stages::WriteOutput(sink, "out.txt", "text/plain", "partial output");
      if (!written) return Fail(written.error());
      if (control_.throw_in_finish) throw std::runtime_error("flaky exploded");
      if (control_.fail) return Fail(ErrorCode::kUnsupportedMedia, "flaky failed on purpose");
      stages::StageResult result;
      result.metadata = {{"ok", true}};
      return result;
    }

   private:
    FlakyControl& control_;
  };

  FlakyControl& control_;
  nlohmann::json params_ = nlohmann::json::object();
};

// On every catalog backend (CatalogBackends()).
class ExecutorTest : public testing::MediaSuite,
                     public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_, nlohmann::json::object(),
                                           std::make_unique<FlakyStage>(control_)));
    executor_ = std::make_unique<Executor>(library_.catalog(), library_.blobs(), registry_, clock_,
                                           MakeNullLogger());
  }

  std::vector<const stages::Stage*> Stages(const std::vector<std::string>& names) {
    auto selected = registry_.Select(names);
    EXPECT_TRUE(selected);
    return *selected;
  }

  FakeClock clock_;
  FlakyControl control_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::unique_ptr<Executor> executor_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ExecutorTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

TEST_P(ExecutorTest, RecordsEachStageAndReflectsProbeOntoTheAsset) {
  catalog::Asset asset = library_.Ingest(samples_->H264AacMp4());
  // Every registered stage: the asset is ready only when each of them is current.
  auto report = executor_->RunAsset(asset, registry_.All());
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->stages.size(), registry_.All().size());
  for (const auto& stage : report->stages) {
    EXPECT_TRUE(stage.state == DerivativeState::kDone || stage.state == DerivativeState::kSkipped)
        << stage.stage << ": " << (stage.error ? stage.error->ToString() : "");
  }
  EXPECT_EQ(report->status, catalog::AssetStatus::kReady);

  auto thumb = library_.catalog().GetCurrentDerivative(asset.id, "thumbnail");
  ASSERT_TRUE(thumb);
  ASSERT_EQ(thumb->blobs.size(), 1u);
  EXPECT_EQ(thumb->blobs[0].content_type, "image/jpeg");
  EXPECT_EQ(thumb->recipe, registry_.Recipe("thumbnail"));
  auto size = library_.blobs().Size(thumb->blobs[0].key);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, thumb->blobs[0].size);

  auto stored = library_.catalog().GetAsset(asset.id, {});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->media.width, testing::samples::kSmallWidth);
  EXPECT_EQ(stored->status, catalog::AssetStatus::kReady);
}

TEST_P(ExecutorTest, AFailedRetryKeepsTheLastGoodResultAndRemovesItsFiles) {
  catalog::Asset asset = library_.Ingest(samples_->Wav());
  ASSERT_TRUE(executor_->RunAsset(asset, Stages({"flaky"})));
  auto good = library_.catalog().GetCurrentDerivative(asset.id, "flaky");
  ASSERT_TRUE(good);

  control_.fail = true;
  auto report = executor_->RunAsset(asset, Stages({"flaky"}));
  ASSERT_TRUE(report);
  ASSERT_EQ(report->stages[0].state, DerivativeState::kFailed);
  ASSERT_TRUE(report->stages[0].error);
  EXPECT_EQ(report->stages[0].error->code, ErrorCode::kUnsupportedMedia);

  auto still = library_.catalog().GetCurrentDerivative(asset.id, "flaky");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->id, good->id) << "the failure did not replace the current result";
  EXPECT_EQ(library_.CountBlobs(good->blobs[0].key), 1) << "the good result's file is still there";
  std::string failed_prefix =
      "assets/" + asset.id + "/flaky/" + std::to_string(report->stages[0].derivative_id) + "/";
  EXPECT_EQ(library_.CountBlobs(failed_prefix), 0) << "the failed attempt left no files";

  auto history = library_.catalog().ListDerivatives(asset.id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].state, DerivativeState::kFailed);
  EXPECT_EQ((*history)[0].error_code, "unsupported_media");
  EXPECT_EQ((*history)[0].error_message, "flaky failed on purpose");
  // A good result of today's recipe is still current, so the stage does not count as
  // failed; probe and thumbnail never ran, so the asset is pending.
  auto statuses =
      library_.catalog().GetStageStatuses(asset.id, {{"flaky", registry_.Recipe("flaky")}});
  ASSERT_TRUE(statuses);
  EXPECT_EQ((*statuses)[0], catalog::StageStatus::kCurrent);
  EXPECT_EQ(report->status, catalog::AssetStatus::kPending);
}

TEST_P(ExecutorTest, AThrowingStageFailsAloneWhileTheOthersComplete) {
  catalog::Asset asset = library_.Ingest(samples_->H264AacMp4());
  control_.throw_in_finish = true;
  auto report = executor_->RunAsset(asset, Stages({"probe", "flaky", "thumbnail"}));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->stages[0].state, DerivativeState::kDone);
  EXPECT_EQ(report->stages[1].state, DerivativeState::kFailed);
  ASSERT_TRUE(report->stages[1].error);
  EXPECT_EQ(report->stages[1].error->code, ErrorCode::kInternal);
  EXPECT_NE(report->stages[1].error->message.find("flaky exploded"), std::string::npos);
  EXPECT_EQ(report->stages[2].state, DerivativeState::kDone);
  EXPECT_EQ(library_.CountBlobs("assets/" + asset.id + "/flaky/"), 0);
}

TEST_P(ExecutorTest, AMissingOriginalFailsEveryStageWithTheReason) {
  catalog::Asset asset = library_.Ingest(samples_->Mp3());
  ASSERT_TRUE(library_.blobs().Delete(asset.original_key));
  auto report = executor_->RunAsset(asset, Stages({"probe", "thumbnail"}));
  ASSERT_TRUE(report);
  for (const auto& stage : report->stages) {
    EXPECT_EQ(stage.state, DerivativeState::kFailed);
    ASSERT_TRUE(stage.error);
    EXPECT_EQ(stage.error->code, ErrorCode::kNotFound);
    EXPECT_NE(stage.error->message.find(asset.id), std::string::npos) << stage.error->message;
  }
  EXPECT_EQ(report->status, catalog::AssetStatus::kFailed);
}

}  // namespace
}  // namespace reprise::queue
