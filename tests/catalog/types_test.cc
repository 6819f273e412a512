#include "catalog/types.h"

#include <gtest/gtest.h>

namespace reprise::catalog {
namespace {

template <class E, class Parse>
void ExpectRoundTrip(std::initializer_list<E> values, Parse parse) {
  for (E value : values) {
    auto parsed = parse(Name(value));
    ASSERT_TRUE(parsed) << Name(value);
    EXPECT_EQ(*parsed, value);
  }
}

TEST(CatalogTypes, NamesAreLowerSnakeAndRoundTrip) {
  ExpectRoundTrip({AssetKind::kUnknown, AssetKind::kVideo, AssetKind::kAudio, AssetKind::kImage},
                  ParseAssetKind);
  ExpectRoundTrip(
      {AssetSource::kUpload, AssetSource::kUrl, AssetSource::kWebhook, AssetSource::kScan},
      ParseAssetSource);
  ExpectRoundTrip(
      {AssetStatus::kPending, AssetStatus::kProcessing, AssetStatus::kReady, AssetStatus::kFailed},
      ParseAssetStatus);
  ExpectRoundTrip({DerivativeState::kPending, DerivativeState::kRunning, DerivativeState::kDone,
                   DerivativeState::kFailed, DerivativeState::kSkipped},
                  ParseDerivativeState);
  ExpectRoundTrip({StageStatus::kCurrent, StageStatus::kOutdated, StageStatus::kMissing,
                   StageStatus::kFailed, StageStatus::kSkipped, StageStatus::kQuarantined},
                  ParseStageStatus);
  ExpectRoundTrip({JobState::kQueued, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
                   JobState::kCancelled},
                  ParseJobState);
  EXPECT_EQ(Name(AssetKind::kVideo), "video");
  EXPECT_EQ(Name(AssetSource::kUpload), "upload");
  EXPECT_EQ(Name(AssetStatus::kPending), "pending");
  EXPECT_EQ(Name(DerivativeState::kDone), "done");
  EXPECT_EQ(Name(StageStatus::kCurrent), "current");
  EXPECT_EQ(Name(StageStatus::kQuarantined), "quarantined");
  EXPECT_EQ(Name(JobState::kSucceeded), "succeeded");
  EXPECT_EQ(Name(JobState::kCancelled), "cancelled");
}

TEST(CatalogTypes, ParseRejectsUnknownTextListingValidValues) {
  auto kind = ParseAssetKind("Video");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(kind.error().message.find("\"Video\""), std::string::npos);
  EXPECT_NE(kind.error().message.find("unknown, video, audio, image"), std::string::npos)
      << kind.error().message;
  EXPECT_FALSE(ParseAssetSource(""));
  EXPECT_FALSE(ParseAssetStatus("done"));
  EXPECT_FALSE(ParseDerivativeState("current"));
  EXPECT_FALSE(ParseStageStatus("ready"));
  EXPECT_FALSE(ParseJobState("done"));
  EXPECT_NE(
      ParseJobState("x").error().message.find("queued, running, succeeded, failed, cancelled"),
      std::string::npos);
  EXPECT_NE(ParseAssetStatus("x").error().message.find("pending, processing, ready, failed"),
            std::string::npos);
}

TEST(CatalogTypes, ALeaseReadsAsTimeLeftOrAsExpiredAndWaitingForAWorker) {
  constexpr int64_t kNow = 1'000'000'000;
  EXPECT_EQ(DescribeLease(kNow + 3'240'000, kNow), "3.2 s left");
  // What `jobs list` showed as "(lease -6.51 s left)" for a killed worker's job.
  EXPECT_EQ(DescribeLease(kNow - 6'510'000, kNow), "expired 6.5 s ago, waiting for a worker");
  EXPECT_EQ(DescribeLease(kNow, kNow), "0.0 s left") << "it holds up to its expiry instant";
  EXPECT_EQ(DescribeLease(kNow - 1, kNow), "expired 0.0 s ago, waiting for a worker");
}

}  // namespace
}  // namespace reprise::catalog
