// Stages that consume other stages' results, through the executor and EnqueueDue on every
// catalog backend: a consumer reads its input built earlier in the same job or found in
// the catalog under today's recipe, fails clearly without one, and enqueueing a consumer
// brings its due inputs along.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "queue/enqueue.h"
#include "queue/executor.h"
#include "stages/builtin.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"

namespace reprise::queue {
namespace {

using catalog::DerivativeState;
using ::testing::HasSubstr;

// Consumes the thumbnail: checks its thumb.jpg is a JPEG and writes its size.
class SheetStage final : public stages::Stage {
 public:
  std::string_view Name() const override { return "sheet"; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return {"thumbnail"}; }
  stages::Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo&) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<stages::StageRun>> Start(const media::MediaInfo&) const override {
    return Fail(ErrorCode::kInternal, "sheet needs its inputs");
  }
  Result<std::unique_ptr<stages::StageRun>> StartWith(
      const media::MediaInfo&, const stages::StageInputs& inputs) const override {
    auto thumb = stages::ReadInputFile(inputs, "thumbnail", "thumb.jpg", 1 << 20);
    if (!thumb) return Fail(thumb.error());
    if (thumb->size() < 4 || static_cast<unsigned char>((*thumb)[0]) != 0xFF ||
        static_cast<unsigned char>((*thumb)[1]) != 0xD8) {
      return Fail(ErrorCode::kUnsupportedMedia, "thumb.jpg is not a JPEG");
    }
    auto input = inputs.Get("thumbnail");
    if (!input) return Fail(input.error());
    return std::unique_ptr<stages::StageRun>(
        std::make_unique<Run>(static_cast<int64_t>(thumb->size()), (*input)->metadata));
  }

 private:
  class Run final : public stages::StageRun {
   public:
    Run(int64_t bytes, nlohmann::json thumbnail)
        : bytes_(bytes), thumbnail_(std::move(thumbnail)) {}
    Result<stages::StageResult> Finish(stages::OutputSink& sink, bool) override {
      auto written = stages::WriteOutput(sink, "sheet.txt", "text/plain", std::to_string(bytes_));
      if (!written) return Fail(written.error());
      stages::StageResult result;
      result.metadata = {{"thumb_bytes", bytes_}, {"thumbnail", thumbnail_}};
      return result;
    }

   private:
    int64_t bytes_;
    nlohmann::json thumbnail_;
  };
  nlohmann::json params_ = nlohmann::json::object();
};

// A stage that always fails for good.
class FailingStage final : public stages::Stage {
 public:
  std::string_view Name() const override { return "notes"; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  stages::Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo&) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<stages::StageRun>> Start(const media::MediaInfo&) const override {
    return Fail(ErrorCode::kUnsupportedMedia, "notes failed on purpose");
  }

 private:
  nlohmann::json params_ = nlohmann::json::object();
};

// Consumes "notes"; succeeds whenever it is started.
class DigestStage final : public stages::Stage {
 public:
  std::string_view Name() const override { return "digest"; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return {"notes"}; }
  stages::Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo&) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<stages::StageRun>> Start(const media::MediaInfo&) const override {
    return std::unique_ptr<stages::StageRun>(std::make_unique<Run>());
  }

 private:
  class Run final : public stages::StageRun {
   public:
    Result<stages::StageResult> Finish(stages::OutputSink&, bool) override {
      return stages::StageResult{};
    }
  };
  nlohmann::json params_ = nlohmann::json::object();
};

class StageInputsTest : public testing::MediaSuite,
                        public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(Seal(registry_, nlohmann::json::object()));
    asset_ = library_.Ingest(samples_->H264AacMp4());
  }

  // The built-in stages (configured by `config`), then sheet, notes and digest.
  static ::testing::AssertionResult Seal(stages::Registry& registry, const nlohmann::json& config) {
    if (auto added = stages::AddBuiltinStages(registry, config); !added) {
      return ::testing::AssertionFailure() << added.error().ToString();
    }
    for (auto* stage : {static_cast<stages::Stage*>(new SheetStage()),
                        static_cast<stages::Stage*>(new FailingStage()),
                        static_cast<stages::Stage*>(new DigestStage())}) {
      if (auto added = registry.Add(std::unique_ptr<stages::Stage>(stage)); !added) {
        return ::testing::AssertionFailure() << added.error().ToString();
      }
    }
    if (auto sealed = registry.Seal(); !sealed) {
      return ::testing::AssertionFailure() << sealed.error().ToString();
    }
    return ::testing::AssertionSuccess();
  }

  Result<AssetReport> RunAsset(const stages::Registry& registry,
                               const std::vector<std::string>& names) {
    Executor executor(library_.catalog(), library_.blobs(), registry, clock_, MakeNullLogger());
    auto due = registry.Select(names);
    if (!due) return Fail(due.error());
    return executor.RunAsset(asset_, *due);
  }

  // The stages EnqueueDue puts in the asset's job when `names` are asked for.
  std::vector<std::string> Enqueued(const stages::Registry& registry,
                                    const std::vector<std::string>& names) {
    EnqueueDueOptions options;
    options.stages = names;
    std::vector<std::string> due;
    int64_t job = 0;
    auto counts = EnqueueDue(library_.catalog(), registry, options, [&](const DueAsset& asset) {
      due = asset.due;
      job = asset.result.job_id;
    });
    EXPECT_TRUE(counts) << counts.error().ToString();
    // Out of the way of the next question.
    if (job != 0) {
      EXPECT_TRUE(library_.catalog().CancelJob(job, {}));
    }
    return due;
  }

  int64_t ThumbBytes() {
    auto thumb = library_.catalog().GetCurrentDerivative(asset_.id, "thumbnail");
    EXPECT_TRUE(thumb) << thumb.error().ToString();
    return thumb ? thumb->blobs.at(0).size : -1;
  }

  FakeClock clock_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  catalog::Asset asset_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StageInputsTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

TEST_P(StageInputsTest, AConsumerReadsItsInputBuiltEarlierInTheSameJob) {
  auto report = RunAsset(registry_, {"sheet", "thumbnail"});
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->stages.size(), 2u);
  EXPECT_EQ(report->stages[0].stage, "sheet");  // in the order asked, whatever order they ran
  ASSERT_EQ(report->stages[0].state, DerivativeState::kDone) << report->stages[0].error->ToString();
  auto sheet = library_.catalog().GetCurrentDerivative(asset_.id, "sheet");
  ASSERT_TRUE(sheet);
  EXPECT_EQ(sheet->metadata["thumb_bytes"], ThumbBytes());
  EXPECT_EQ(sheet->metadata["thumbnail"]["width"], 320) << sheet->metadata.dump();
  // One read of the original for both: the sheet decodes nothing.
  EXPECT_LE(report->stats.video_frames_decoded, 4);
}

TEST_P(StageInputsTest, AConsumerAloneReadsTheCurrentInputFromTheCatalog) {
  ASSERT_TRUE(RunAsset(registry_, {"thumbnail"}));
  auto report = RunAsset(registry_, {"sheet"});
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->stages[0].state, DerivativeState::kDone) << report->stages[0].error->ToString();
  auto sheet = library_.catalog().GetCurrentDerivative(asset_.id, "sheet");
  ASSERT_TRUE(sheet);
  EXPECT_EQ(sheet->metadata["thumb_bytes"], ThumbBytes());
}

TEST_P(StageInputsTest, AConsumerWithoutItsInputUnderTodaysRecipeFailsAsUnavailable) {
  auto report = RunAsset(registry_, {"sheet"});
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->stages[0].state, DerivativeState::kFailed);
  EXPECT_EQ(report->stages[0].error->code, ErrorCode::kUnavailable);
  EXPECT_THAT(report->stages[0].error->message, HasSubstr("input thumbnail"));

  // A thumbnail built by another recipe is not today's input either.
  stages::Registry wider;
  ASSERT_TRUE(Seal(wider, {{"thumbnail", {{"width", 480}}}}));
  ASSERT_TRUE(RunAsset(wider, {"thumbnail"}));
  report = RunAsset(registry_, {"sheet"});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->stages[0].state, DerivativeState::kFailed);
  EXPECT_EQ(report->stages[0].error->code, ErrorCode::kUnavailable);
}

TEST_P(StageInputsTest, AnInputThatFailedFailsItsConsumerWithTheSameCode) {
  // notes fails for good (unsupported media). Its consumer, in the same job or alone
  // later, fails with that code, so the queue does not retry it either, and says why.
  for (const auto& names :
       {std::vector<std::string>{"digest", "notes"}, std::vector<std::string>{"digest"}}) {
    auto report = RunAsset(registry_, names);
    ASSERT_TRUE(report) << report.error().ToString();
    const auto& digest = report->stages[0];
    ASSERT_EQ(digest.stage, "digest");
    ASSERT_EQ(digest.state, DerivativeState::kFailed);
    EXPECT_EQ(digest.error->code, ErrorCode::kUnsupportedMedia);
    EXPECT_THAT(digest.error->message, HasSubstr("input notes: failed: notes failed on purpose"));
  }
  // Other stages of the job are not touched by it.
  auto report = RunAsset(registry_, {"digest", "notes", "thumbnail"});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->stages[2].state, DerivativeState::kDone);
}

TEST_P(StageInputsTest, EnqueueingAConsumerBringsItsDueInputsAlong) {
  EXPECT_EQ(Enqueued(registry_, {"sheet"}), (std::vector<std::string>{"thumbnail", "sheet"}));
  // A current input stays out of the job.
  ASSERT_TRUE(RunAsset(registry_, {"thumbnail"}));
  EXPECT_EQ(Enqueued(registry_, {"sheet"}), (std::vector<std::string>{"sheet"}));
  // Nothing due, nothing brought: the input alone is not asked for.
  ASSERT_TRUE(RunAsset(registry_, {"sheet"}));
  EXPECT_TRUE(Enqueued(registry_, {"sheet"}).empty());
  // A new thumbnail recipe outdates the sheet too (its recipe holds the input's): both.
  stages::Registry wider;
  ASSERT_TRUE(Seal(wider, {{"thumbnail", {{"width", 480}}}}));
  EXPECT_EQ(Enqueued(wider, {"sheet"}), (std::vector<std::string>{"thumbnail", "sheet"}));
  // Asking for the input alone does not bring its consumers.
  EXPECT_EQ(Enqueued(wider, {"thumbnail"}), (std::vector<std::string>{"thumbnail"}));
}

}  // namespace
}  // namespace reprise::queue
