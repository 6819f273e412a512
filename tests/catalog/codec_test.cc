// The backend-independent pieces of the catalog: page cursors (catalog/cursor.h), the
// stored forms of structured columns (catalog/codec.h) and argument checks
// (catalog/rules.h). Behaviour through a whole backend is the contract suite's.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/codec.h"
#include "catalog/cursor.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

template <class T>
T Ok(Result<T> result) {
  EXPECT_TRUE(result) << (result ? "" : result.error().message);
  if (!result) return T{};
  return std::move(*result);
}

void ExpectInvalid(const Result<void>& result, std::string_view words) {
  ASSERT_FALSE(result) << "expected a refusal mentioning '" << words << "'";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find(words), std::string::npos) << result.error().message;
}

template <class T, class Field, class Value>
T With(Field T::*field, Value value) {
  T object;
  object.*field = std::move(value);
  return object;
}

TEST(PageCursors, AssetCursorRoundTripsAndRejectsGarbage) {
  for (const auto& [at, id] : std::vector<std::pair<int64_t, std::string>>{
           {0, "a"}, {1'700'000'000'000'000, "abcdefghijkl"}, {-5, "with:colon"}}) {
    AssetCursor cursor = Ok(DecodeAssetCursor(EncodeAssetCursor(at, id)));
    EXPECT_EQ(cursor.created_at, at);
    EXPECT_EQ(cursor.id, id);
  }
  // Hex of "1:a" in upper case is accepted like the lower case the encoder writes.
  EXPECT_EQ(Ok(DecodeAssetCursor("313A61")).id, "a");
  for (std::string bad : {"", "0", "zz", "3a61", "31", "313a", "3a", "31323a6100", "2b313a61"}) {
    auto result = DecodeAssetCursor(bad);
    EXPECT_FALSE(result) << bad;
    if (!result) {
      EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(PageCursors, JobCursorRoundTripsAndRejectsNonPositiveIds) {
  for (int64_t id : {int64_t{1}, int64_t{42}, int64_t{9'000'000'000}}) {
    EXPECT_EQ(Ok(DecodeJobCursor(EncodeJobCursor(id))), id);
  }
  EXPECT_FALSE(DecodeJobCursor(EncodeJobCursor(0)));
  EXPECT_FALSE(DecodeJobCursor(EncodeJobCursor(-3)));
  // An asset cursor is not a job cursor.
  EXPECT_FALSE(DecodeJobCursor(EncodeAssetCursor(1, "a")));
  EXPECT_FALSE(DecodeJobCursor("6a6f623a"));  // "job:"
}

TEST(PageCursors, BackfillCursorIsTheLastIdAndEmptyMeansFirstPage) {
  EXPECT_EQ(Ok(DecodeBackfillCursor("")), std::nullopt);
  EXPECT_EQ(Ok(DecodeBackfillCursor(EncodeBackfillCursor(17))), std::optional<int64_t>(17));
  for (std::string bad : {"0", "-1", "12x", "x", " 1"}) {
    auto result = DecodeBackfillCursor(bad);
    EXPECT_FALSE(result) << bad;
    if (!result) {
      EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(CatalogCodec, BlobsRefsAndStagesRoundTrip) {
  std::vector<OutputBlob> blobs = {{"thumb", "derived/a/thumb.jpg", 1234, "image/jpeg"},
                                   {"wave", "derived/a/wave.json", 0, "application/json"}};
  auto read = Ok(BlobsFromJson(BlobsToJson(blobs)));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].name, "thumb");
  EXPECT_EQ(read[0].key, "derived/a/thumb.jpg");
  EXPECT_EQ(read[0].size, 1234);
  EXPECT_EQ(read[1].content_type, "application/json");

  std::map<std::string, std::string> refs = {{"imdb", "tt0000001"}, {"x", ""}};
  EXPECT_EQ(Ok(RefsFromJson(RefsToJson(refs))), refs);

  std::vector<StageRecipe> stages = {{"thumbnail", "r1"}, {"waveform", "r2"}};
  auto stages_read = Ok(StagesFromJson(StagesJson(stages).dump()));
  ASSERT_EQ(stages_read.size(), 2u);
  EXPECT_EQ(stages_read[1].stage, "waveform");
  EXPECT_EQ(stages_read[1].recipe, "r2");
}

TEST(CatalogCodec, InvalidUtf8IsReplacedNotRefused) {
  std::map<std::string, std::string> refs = {{"title", std::string("caf\xe9", 4)}};
  auto read = Ok(RefsFromJson(RefsToJson(refs)));
  ASSERT_EQ(read.count("title"), 1u);
  EXPECT_EQ(read["title"].substr(0, 3), "caf");
}

TEST(CatalogCodec, CorruptStoredValuesAreInternalErrors) {
  auto code = [](const auto& result) {
    return result ? std::optional<ErrorCode>() : std::optional(result.error().code);
  };
  EXPECT_EQ(code(BlobsFromJson("not json")), ErrorCode::kInternal);
  EXPECT_EQ(code(BlobsFromJson(R"([{"name": 1}])")), ErrorCode::kInternal);
  EXPECT_EQ(code(RefsFromJson("[1, 2]")), ErrorCode::kInternal);
  EXPECT_EQ(code(StagesFromJson(R"([["only one"]])")), ErrorCode::kInternal);
  EXPECT_EQ(code(EventTypesFromJson("{}")), ErrorCode::kInternal);
  EXPECT_EQ(Ok(EventTypesFromJson(R"(["asset.ready", 3])")),
            (std::vector<std::string>{"asset.ready"}));
}

TEST(CatalogCodec, ErrorColumnsKeepTheLibraryCode) {
  EXPECT_EQ(ErrorColumns(std::nullopt), (std::pair<std::string, std::string>{}));
  Error error{ErrorCode::kIo, "disk full", "sqlite:13"};
  auto [code, message] = ErrorColumns(error);
  EXPECT_EQ(code, ErrorCodeName(ErrorCode::kIo));
  EXPECT_EQ(message, "disk full (sqlite:13)");
}

TEST(CatalogCodec, DeliveryStatesParseTheirNames) {
  for (auto state : {DeliveryState::kPending, DeliveryState::kSucceeded, DeliveryState::kFailed}) {
    EXPECT_EQ(Ok(ParseDeliveryState(Name(state))), state);
  }
  EXPECT_EQ(ParseDeliveryState("lost").error().code, ErrorCode::kInternal);
}

// A row as a backend hands it over: text, integers and NULLs by column.
struct FakeRow {
  std::vector<std::optional<std::string>> columns;
  std::string Text(int i) const { return columns.at(i).value_or(""); }
  int64_t Int64(int i) const { return columns.at(i) ? std::stoll(*columns.at(i)) : 0; }
  std::optional<std::string> OptionalText(int i) const { return columns.at(i); }
  std::optional<int64_t> OptionalInt64(int i) const {
    return columns.at(i) ? std::optional<int64_t>(Int64(i)) : std::nullopt;
  }
  std::optional<double> OptionalDouble(int i) const {
    return columns.at(i) ? std::optional<double>(std::stod(*columns.at(i))) : std::nullopt;
  }
};

TEST(CatalogCodec, ReadsAnAssetFromAnyRowType) {
  FakeRow row{
      {"ast_1",      "alice",      "upload",          "ab",    "bafy", "10",  "originals/ab",
       "a.wav",      "",           "ready",           "audio", "wav",  "2.5", std::nullopt,
       std::nullopt, std::nullopt, R"({"isrc":"X"})", "100",   "200",  "7"}};
  Asset asset = Ok(ReadAsset(row));
  EXPECT_EQ(asset.id, "ast_1");
  EXPECT_EQ(asset.status, AssetStatus::kReady);
  EXPECT_EQ(asset.media.kind, AssetKind::kAudio);
  EXPECT_EQ(asset.media.duration_seconds, 2.5);
  EXPECT_FALSE(asset.media.width);
  EXPECT_EQ(asset.refs.at("isrc"), "X");
  EXPECT_EQ(asset.updated_at, 200);
  EXPECT_EQ(asset.revision, 7);

  row.columns[9] = "shredded";
  auto bad = ReadAsset(row);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ast_1"), std::string::npos) << bad.error().message;
}

TEST(CatalogRules, PageLimitsAreTrimmedAndNonPositiveOnesRefused) {
  EXPECT_EQ(Ok(CheckedPageLimit(With(&PageRequest::limit, 10))), 10);
  EXPECT_EQ(Ok(CheckedPageLimit(With(&PageRequest::limit, kMaxPageLimit + 1))), kMaxPageLimit);
  EXPECT_FALSE(CheckedPageLimit(With(&PageRequest::limit, 0)));
  EXPECT_EQ(ClampedListLimit(0), 1);
  EXPECT_EQ(ClampedListLimit(5000), kMaxPageLimit);
}

TEST(CatalogRules, RefuseWhatTheContractRefuses) {
  using DS = DerivativeState;
  ExpectInvalid(ValidateOutcome(With(&DerivativeOutcome::state, DS::kFailed)), "needs its error");
  ExpectInvalid(ValidateOutcome(With(&DerivativeOutcome::state, DS::kSkipped)), "skip reason");
  ExpectInvalid(ValidateOutcome(With(&DerivativeOutcome::state, DS::kRunning)), "not running");
  EXPECT_TRUE(ValidateOutcome(With(&DerivativeOutcome::state, DS::kDone)));
  ExpectInvalid(CheckNewAsset({}), "needs an id");
  ExpectInvalid(CheckDerivativeStart("thumbnail", ""), "recipe");
  ExpectInvalid(CheckClaimRequest({}), "worker id");
  ExpectInvalid(CheckLease(0), "lease_micros");
  ExpectInvalid(CheckJobOutcome(With(&JobOutcome::state, JobState::kRunning)), "not running");
  ExpectInvalid(CheckQuarantineRequest("s", "r", 0), "threshold");
  ExpectInvalid(CheckBackfillStages({}), "needs stages");
  ExpectInvalid(CheckBackfillStages({{"s", ""}}), "a name and a recipe");
  ExpectInvalid(CheckDriverClaim("", 10), "driver");
  ExpectInvalid(CheckRollbackRequest({}), "needs a stage");
  ExpectInvalid(CheckEventQuery(With(&EventQuery::limit, kMaxPageLimit + 1)), "1 to 1000");
  NewWebhookSubscription subscription;
  subscription.url = "https://x";
  subscription.events = {"asset.ready"};
  ExpectInvalid(CheckSubscription(subscription), "secret");
  subscription.secret = "whsec_1";
  EXPECT_TRUE(CheckSubscription(subscription));
  subscription.events = {"job.finished"};
  ExpectInvalid(CheckSubscription(subscription), "job.finished");
  ExpectInvalid(CheckDeliveryClaim(1, 0), "lease");
  ExpectInvalid(CheckDeliveryPage(0), "limit");
  ExpectInvalid(CheckNewApiToken(With(&NewApiToken::sha256_hex, std::string(64, 'A'))),
                "lower-case hex");
  ExpectInvalid(CheckImportClaim("runner", 1, 0), "max attempts");
  ExpectInvalid(CheckImportOutcome(With(&ImportOutcome::state, ImportState::kDone)),
                "with its asset");
}

TEST(CatalogRules, JobStagesAreDistinctInOrderAndNeverEmpty) {
  NewJob job;
  job.stages = {"b", "a", "b"};
  EXPECT_EQ(Ok(CheckNewJob(job)), (std::vector<std::string>{"b", "a"}));
  job.stages = {"a", ""};
  EXPECT_FALSE(CheckNewJob(job));
  job.stages = {"a"};
  job.max_attempts = 0;
  EXPECT_FALSE(CheckNewJob(job));
}

}  // namespace
}  // namespace reprise::catalog
