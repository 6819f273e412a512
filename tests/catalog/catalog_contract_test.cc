// Behaviour every Catalog backend must show. Instantiated per backend (see
// catalog_contract.h); nothing here names a database.

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

// Every TEST_P(CatalogContractTest, ...) of this binary, once per backend.
INSTANTIATE_TEST_SUITE_P(Backends, CatalogContractTest, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);

// The StageStatus rule of types.h written out over an asset's history (newest first), as
// the brute-force reference for the backends' SQL. `quarantined`: the asset's content has
// a quarantine entry for the stage and today's recipe.
StageStatus ExpectedStatus(const std::vector<Derivative>& history, const StageRecipe& stage,
                           bool quarantined = false) {
  const Derivative* latest = nullptr;  // of today's recipe
  const Derivative* current = nullptr;
  bool attempted = false;  // a finished attempt of any recipe
  for (const auto& d : history) {
    if (d.stage != stage.stage) continue;
    if (d.current) current = &d;
    bool final = d.state == DerivativeState::kDone || d.state == DerivativeState::kFailed ||
                 d.state == DerivativeState::kSkipped;
    attempted = attempted || final;
    if (latest == nullptr && final && d.recipe == stage.recipe) latest = &d;
  }
  if (latest != nullptr && latest->state == DerivativeState::kSkipped) return StageStatus::kSkipped;
  if (current != nullptr && current->recipe == stage.recipe) return StageStatus::kCurrent;
  if (quarantined) return StageStatus::kQuarantined;
  if (latest != nullptr && latest->state == DerivativeState::kFailed) return StageStatus::kFailed;
  if (current != nullptr || attempted) return StageStatus::kOutdated;
  return StageStatus::kMissing;
}

void Add(StageCounts& counts, StageStatus status) {
  switch (status) {
    case StageStatus::kCurrent:
      ++counts.current;
      break;
    case StageStatus::kOutdated:
      ++counts.outdated;
      break;
    case StageStatus::kMissing:
      ++counts.missing;
      break;
    case StageStatus::kFailed:
      ++counts.failed;
      break;
    case StageStatus::kSkipped:
      ++counts.skipped;
      break;
    case StageStatus::kQuarantined:
      ++counts.quarantined;
      break;
  }
}

std::string Describe(const StageCounts& c) {
  return "current=" + std::to_string(c.current) + " outdated=" + std::to_string(c.outdated) +
         " missing=" + std::to_string(c.missing) + " failed=" + std::to_string(c.failed) +
         " skipped=" + std::to_string(c.skipped) + " quarantined=" + std::to_string(c.quarantined);
}

bool operator==(const StageCounts& a, const StageCounts& b) {
  return std::tie(a.current, a.outdated, a.missing, a.failed, a.skipped, a.quarantined) ==
         std::tie(b.current, b.outdated, b.missing, b.failed, b.skipped, b.quarantined);
}

// Walks every page of ListAssets and returns the ids in order.
std::vector<std::string> WalkPages(Catalog& catalog, const AssetFilter& filter, int limit,
                                   int* pages = nullptr) {
  std::vector<std::string> ids;
  PageRequest request;
  request.limit = limit;
  int count = 0;
  while (true) {
    AssetPage page = Ok(catalog.ListAssets(filter, request));
    ++count;
    EXPECT_LE(static_cast<int>(page.items.size()), limit);
    for (const auto& asset : page.items) ids.push_back(asset.id);
    if (page.next_cursor.empty()) break;
    EXPECT_FALSE(page.items.empty()) << "a page promising more must not be empty";
    request.cursor = page.next_cursor;
    if (count > 10'000) {
      ADD_FAILURE() << "pagination does not end";
      break;
    }
  }
  if (pages != nullptr) *pages = count;
  return ids;
}

// ---------------------------------------------------------------------------------------
// Schema

TEST_P(CatalogContractTest, SchemaVersionIsAppliedAndReopenKeepsData) {
  int version = Ok(catalog_->SchemaVersion());
  EXPECT_GE(version, 1);
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  catalog_.reset();

  clock_.Advance(60 * kSecond);
  auto reopened = Ok(env_->Connect(clock_));
  EXPECT_EQ(Ok(reopened->SchemaVersion()), version);
  Asset asset = Ok(reopened->GetAsset("a1", {}));
  EXPECT_EQ(asset.id, "a1");
  EXPECT_FALSE(reopened->Describe().empty());
}

// ---------------------------------------------------------------------------------------
// Assets

TEST_P(CatalogContractTest, InsertAssetStoresEveryField) {
  Ok(catalog_->InsertAsset(MakeAsset("parent")));
  NewAsset in = MakeAsset("child", "alice");
  in.source = AssetSource::kWebhook;
  in.size_bytes = int64_t{5} << 40;  // beyond 32 bits
  in.media.kind = AssetKind::kAudio;
  in.media.container = "mov,mp4,m4a,3gp,3g2,mj2";
  in.media.duration_seconds = 12.345;
  in.media.width = 1081;
  in.media.height = 607;
  in.parent_id = "parent";
  in.refs = {{"cover", "https://cdn.example/cover.jpg"}, {"page", "https://example.com/x?a=1"}};
  in.original_name = "Zoë's \"clip\" ☃.mp4";

  InsertAssetResult inserted = Ok(catalog_->InsertAsset(in));
  EXPECT_TRUE(inserted.created);
  Asset out = Ok(catalog_->GetAsset("child", {}));
  EXPECT_EQ(out.id, in.id);
  EXPECT_EQ(out.owner, in.owner);
  EXPECT_EQ(out.source, in.source);
  EXPECT_EQ(out.sha256_hex, in.sha256_hex);
  EXPECT_EQ(out.cid, in.cid);
  EXPECT_EQ(out.size_bytes, in.size_bytes);
  EXPECT_EQ(out.original_key, in.original_key);
  EXPECT_EQ(out.original_name, in.original_name);
  EXPECT_EQ(out.source_uri, in.source_uri);
  EXPECT_EQ(out.status, AssetStatus::kPending);
  EXPECT_EQ(out.media.kind, AssetKind::kAudio);
  EXPECT_EQ(out.media.container, in.media.container);
  EXPECT_EQ(out.media.duration_seconds, in.media.duration_seconds);
  EXPECT_EQ(out.media.width, in.media.width);
  EXPECT_EQ(out.media.height, in.media.height);
  EXPECT_EQ(out.parent_id, in.parent_id);
  EXPECT_EQ(out.refs, in.refs);
  EXPECT_EQ(out.created_at, clock_.NowMicros());
  EXPECT_EQ(out.updated_at, clock_.NowMicros());
  EXPECT_EQ(inserted.asset.id, out.id);

  Asset parent = Ok(catalog_->GetAsset("parent", {}));
  EXPECT_FALSE(parent.parent_id.has_value());
  EXPECT_FALSE(parent.media.duration_seconds.has_value());
  EXPECT_FALSE(parent.media.width.has_value());
  EXPECT_TRUE(parent.refs.empty());
}

TEST_P(CatalogContractTest, InsertAssetIsIdempotent) {
  InsertAssetResult first = Ok(catalog_->InsertAsset(MakeAsset("a1")));
  EXPECT_TRUE(first.created);
  clock_.Advance(5 * kSecond);
  NewAsset again = MakeAsset("a1");
  again.original_name = "renamed.mp4";  // same content under another name: still a no-op
  InsertAssetResult second = Ok(catalog_->InsertAsset(again));
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.asset.original_name, "a1.mp4");
  EXPECT_EQ(second.asset.created_at, first.asset.created_at);
  EXPECT_EQ(Ok(catalog_->CountAssets({})), 1);
}

TEST_P(CatalogContractTest, InsertAssetWithSameIdButOtherContentOrOwnerConflicts) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  NewAsset other_content = MakeAsset("a1", "alice");
  other_content.sha256_hex = "different";
  auto conflict = catalog_->InsertAsset(other_content);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);

  auto other_owner = catalog_->InsertAsset(MakeAsset("a1", "bob"));
  ASSERT_FALSE(other_owner);
  EXPECT_EQ(other_owner.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->GetAsset("a1", {})).owner, "alice");
}

TEST_P(CatalogContractTest, InsertAssetRejectsUnknownParent) {
  NewAsset orphan = MakeAsset("a1");
  orphan.parent_id = "nope";
  auto result = catalog_->InsertAsset(orphan);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound) << result.error().ToString();
  EXPECT_EQ(Ok(catalog_->CountAssets({})), 0);
}

TEST_P(CatalogContractTest, InsertAssetRejectsEmptyId) {
  auto result = catalog_->InsertAsset(MakeAsset(""));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, GetAssetHonoursOwnerScope) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  AssetFilter alice;
  alice.owner = "alice";
  AssetFilter bob;
  bob.owner = "bob";

  EXPECT_EQ(Ok(catalog_->GetAsset("a1", alice)).id, "a1");
  EXPECT_EQ(Ok(catalog_->GetAsset("a1", {})).id, "a1");
  auto hidden = catalog_->GetAsset("a1", bob);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);

  auto missing = catalog_->GetAsset("nope", alice);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  // The two answers must not let a caller tell "exists elsewhere" from "does not exist".
  EXPECT_EQ(hidden.error().message.find("bob"), std::string::npos);

  AssetFilter ready = alice;
  ready.status = AssetStatus::kReady;
  EXPECT_EQ(catalog_->GetAsset("a1", ready).error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, ListAndCountAreScopedByOwner) {
  for (int i = 0; i < 5; ++i) Ok(catalog_->InsertAsset(MakeAsset("a" + std::to_string(i))));
  for (int i = 0; i < 3; ++i) Ok(catalog_->InsertAsset(MakeAsset("b" + std::to_string(i), "bob")));
  AssetFilter bob;
  bob.owner = "bob";
  AssetPage page = Ok(catalog_->ListAssets(bob, {}));
  ASSERT_EQ(page.items.size(), 3u);
  for (const auto& asset : page.items) EXPECT_EQ(asset.owner, "bob");
  EXPECT_TRUE(page.next_cursor.empty());
  EXPECT_EQ(Ok(catalog_->CountAssets(bob)), 3);
  EXPECT_EQ(Ok(catalog_->CountAssets({})), 8);
  AssetFilter nobody;
  nobody.owner = "carol";
  EXPECT_TRUE(Ok(catalog_->ListAssets(nobody, {})).items.empty());
  EXPECT_EQ(Ok(catalog_->CountAssets(nobody)), 0);

  std::map<std::string, int64_t> by_owner = Ok(catalog_->CountAssetsByOwner({}));
  EXPECT_EQ(by_owner, (std::map<std::string, int64_t>{{"alice", 5}, {"bob", 3}}));
  EXPECT_EQ(Ok(catalog_->CountAssetsByOwner(bob)), (std::map<std::string, int64_t>{{"bob", 3}}));
  EXPECT_TRUE(Ok(catalog_->CountAssetsByOwner(nobody)).empty());
}

TEST_P(CatalogContractTest, PaginationWalksEveryAssetExactlyOnceUnderEveryFilter) {
  // Assets with varied attributes; several share a created_at so the id tie-break matters.
  std::mt19937 random(7);
  const std::vector<std::string> owners = {"alice", "bob", "carol"};
  const std::vector<AssetKind> kinds = {AssetKind::kVideo, AssetKind::kAudio, AssetKind::kImage};
  const std::vector<AssetStatus> statuses = {AssetStatus::kPending, AssetStatus::kReady,
                                             AssetStatus::kFailed};
  const std::vector<AssetSource> sources = {AssetSource::kUpload, AssetSource::kScan};
  std::vector<Asset> all;
  for (int i = 0; i < 61; ++i) {
    if (random() % 3 == 0) clock_.Advance(static_cast<int64_t>(random() % 5 + 1) * kSecond);
    // Ids not in insertion order, so (created_at, id) order differs from insertion order.
    std::string id = "id" + std::to_string((i * 37) % 61 + 100);
    NewAsset in = MakeAsset(id, owners[random() % owners.size()]);
    in.media.kind = kinds[random() % kinds.size()];
    in.source = sources[random() % sources.size()];
    Ok(catalog_->InsertAsset(in));
    Ok(catalog_->SetAssetStatus(id, statuses[random() % statuses.size()]));
    all.push_back(Ok(catalog_->GetAsset(id, {})));
  }
  std::sort(all.begin(), all.end(), [](const Asset& a, const Asset& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  });

  std::vector<AssetFilter> filters(1);
  for (const auto& owner : owners) {
    AssetFilter f;
    f.owner = owner;
    filters.push_back(f);
    f.kind = AssetKind::kVideo;
    filters.push_back(f);
    f.status = AssetStatus::kReady;
    filters.push_back(f);
  }
  for (auto kind : kinds) {
    AssetFilter f;
    f.kind = kind;
    f.source = AssetSource::kScan;
    filters.push_back(f);
  }
  AssetFilter by_ids;
  for (size_t i = 0; i < all.size(); i += 4) by_ids.ids.push_back(all[i].id);
  filters.push_back(by_ids);
  by_ids.owner = "bob";
  filters.push_back(by_ids);

  for (const auto& filter : filters) {
    std::vector<std::string> expected;
    for (const auto& a : all) {
      if (filter.owner && a.owner != *filter.owner) continue;
      if (filter.kind && a.media.kind != *filter.kind) continue;
      if (filter.status && a.status != *filter.status) continue;
      if (filter.source && a.source != *filter.source) continue;
      if (!filter.ids.empty() &&
          std::find(filter.ids.begin(), filter.ids.end(), a.id) == filter.ids.end()) {
        continue;
      }
      expected.push_back(a.id);
    }
    for (int limit : {1, 2, 7, 1000}) {
      int pages = 0;
      std::vector<std::string> walked = WalkPages(*catalog_, filter, limit, &pages);
      EXPECT_EQ(walked, expected) << "limit " << limit;
      // No trailing empty page: the last page says there is no more.
      int want_pages = std::max(1, (static_cast<int>(expected.size()) + limit - 1) / limit);
      EXPECT_EQ(pages, want_pages) << "limit " << limit;
    }
    EXPECT_EQ(Ok(catalog_->CountAssets(filter)), static_cast<int64_t>(expected.size()));
  }
}

TEST_P(CatalogContractTest, ListAssetsRejectsMalformedCursorAndLimit) {
  for (int i = 0; i < 3; ++i) Ok(catalog_->InsertAsset(MakeAsset("a" + std::to_string(i))));
  PageRequest first;
  first.limit = 1;
  AssetPage page = Ok(catalog_->ListAssets({}, first));
  ASSERT_FALSE(page.next_cursor.empty());

  for (std::string bad :
       {std::string("zz"), std::string("abc"), page.next_cursor + "0", std::string("not a cursor"),
        std::string("00"), page.next_cursor.substr(0, page.next_cursor.size() - 2) + "g0",
        std::string("' OR 1=1 --")}) {
    PageRequest request;
    request.cursor = bad;
    auto result = catalog_->ListAssets({}, request);
    ASSERT_FALSE(result) << "accepted cursor \"" << bad << "\"";
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  for (int limit : {0, -5}) {
    PageRequest request;
    request.limit = limit;
    auto result = catalog_->ListAssets({}, request);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_P(CatalogContractTest, FilterValuesAreNeverSql) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  AssetFilter evil;
  evil.owner = "x' OR '1'='1";
  EXPECT_EQ(Ok(catalog_->CountAssets(evil)), 0);
  AssetFilter evil_ids;
  evil_ids.ids = {"a1') OR ('1'='1", "\"]"};
  EXPECT_EQ(Ok(catalog_->CountAssets(evil_ids)), 0);
  EXPECT_EQ(Ok(catalog_->CountAssets({})), 1);
}

TEST_P(CatalogContractTest, SetAssetStatusUpdatesStatusAndTime) {
  Asset before = Ok(catalog_->InsertAsset(MakeAsset("a1"))).asset;
  clock_.Advance(3 * kSecond);
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kProcessing));
  Asset after = Ok(catalog_->GetAsset("a1", {}));
  EXPECT_EQ(after.status, AssetStatus::kProcessing);
  EXPECT_EQ(after.created_at, before.created_at);
  EXPECT_EQ(after.updated_at, before.created_at + 3 * kSecond);

  auto missing = catalog_->SetAssetStatus("nope", AssetStatus::kReady);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// ---------------------------------------------------------------------------------------
// Derivatives

TEST_P(CatalogContractTest, DerivativeHistoryKeepsTheLastGoodResult) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  const nlohmann::json params = {{"width", 320}};

  int64_t first = Ok(catalog_->StartDerivative("a1", "thumbnail", 1, "r1", params));
  Derivative done = Ok(catalog_->CompleteDerivative(first, Done({{"n", 1}})));
  EXPECT_TRUE(done.current);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, first);

  // A later failed attempt leaves the good one current.
  int64_t second = Ok(catalog_->StartDerivative("a1", "thumbnail", 2, "r2", params));
  Derivative failed = Ok(catalog_->CompleteDerivative(second, Failed()));
  EXPECT_FALSE(failed.current);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, first);

  // A later skip does not take over either.
  int64_t third = Ok(catalog_->StartDerivative("a1", "thumbnail", 2, "r2", params));
  EXPECT_FALSE(Ok(catalog_->CompleteDerivative(third, Skipped())).current);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, first);

  // A later success demotes the old result, which stays in the history.
  int64_t fourth = Ok(catalog_->StartDerivative("a1", "thumbnail", 2, "r2", params));
  EXPECT_TRUE(Ok(catalog_->CompleteDerivative(fourth, Done({{"n", 4}}))).current);
  Derivative current = Ok(catalog_->GetCurrentDerivative("a1", "thumbnail"));
  EXPECT_EQ(current.id, fourth);
  EXPECT_EQ(current.metadata, nlohmann::json({{"n", 4}}));

  // Another stage has its own current row.
  int64_t probe = Ok(catalog_->StartDerivative("a1", "probe", 1, "p1", {}));
  Ok(catalog_->CompleteDerivative(probe, Done()));

  std::vector<Derivative> history = Ok(catalog_->ListDerivatives("a1"));
  ASSERT_EQ(history.size(), 5u);
  std::vector<int64_t> ids;
  for (const auto& d : history) ids.push_back(d.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{probe, fourth, third, second, first}));
  int current_thumbnails = 0;
  for (const auto& d : history) {
    if (d.stage == "thumbnail" && d.current) ++current_thumbnails;
  }
  EXPECT_EQ(current_thumbnails, 1);
  EXPECT_EQ(history.back().state, DerivativeState::kDone);  // the demoted first result
  EXPECT_FALSE(history.back().current);
  EXPECT_EQ(history.back().metadata, nlohmann::json({{"n", 1}}));
  EXPECT_EQ(history.back().params, params);
  EXPECT_EQ(history.back().stage_version, 1);
}

TEST_P(CatalogContractTest, AttemptsCountEarlierAttemptsOfTheSameRecipe) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  std::vector<int> attempts;
  for (int i = 0; i < 3; ++i) {
    int64_t id = Ok(catalog_->StartDerivative("a1", "waveform", 1, "w1", {}));
    attempts.push_back(Ok(catalog_->CompleteDerivative(id, Failed())).attempts);
  }
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
  // A new recipe, another stage or another asset starts counting afresh.
  int64_t new_recipe = Ok(catalog_->StartDerivative("a1", "waveform", 2, "w2", {}));
  int64_t other_stage = Ok(catalog_->StartDerivative("a1", "probe", 1, "w1", {}));
  int64_t other_asset = Ok(catalog_->StartDerivative("a2", "waveform", 1, "w1", {}));
  EXPECT_EQ(Ok(catalog_->CompleteDerivative(new_recipe, Done())).attempts, 1);
  EXPECT_EQ(Ok(catalog_->CompleteDerivative(other_stage, Done())).attempts, 1);
  EXPECT_EQ(Ok(catalog_->CompleteDerivative(other_asset, Done())).attempts, 1);
  // A success does not reset the count: the next run of w1 is still attempt 4.
  int64_t fourth = Ok(catalog_->StartDerivative("a1", "waveform", 1, "w1", {}));
  EXPECT_EQ(Ok(catalog_->CompleteDerivative(fourth, Done())).attempts, 4);
}

TEST_P(CatalogContractTest, StageHistoryIsOfOneRecipeOrOfAnyAndOnlySuccesses) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  // Runs of hls: three of recipe fast (1, 2, 6 s), one of veryslow (10 s), one failed.
  auto run = [&](const char* recipe, int seconds, bool done) {
    int64_t id = Ok(catalog_->StartDerivative("a1", "hls", 1, recipe, {}));
    clock_.Advance(seconds * kSecond);
    Ok(catalog_->CompleteDerivative(id, done ? Done() : Failed()));
  };
  run("fast", 1, true);
  run("fast", 2, true);
  run("fast", 6, true);
  run("veryslow", 10, true);
  run("veryslow", 50, false);
  auto history = [&](const char* recipe, int samples, bool alone = false) {
    return Ok(catalog_->GetStageHistory({"hls", recipe, alone, samples}));
  };
  StageHistory fast = history("fast", 10);
  EXPECT_EQ(fast.samples, 3);
  EXPECT_DOUBLE_EQ(fast.median_seconds, 2);
  StageHistory slow = history("veryslow", 10);
  EXPECT_EQ(slow.samples, 1);
  EXPECT_DOUBLE_EQ(slow.median_seconds, 10);
  EXPECT_EQ(history("", 10).samples, 4);
  EXPECT_EQ(history("", 2).samples, 2) << "the latest ones";
  EXPECT_EQ(history("medium", 10).samples, 0);

  // A pass of hls and probe together: both are recorded over the whole pass, so that
  // run of hls is not one of hls alone.
  int64_t hls = Ok(catalog_->StartDerivative("a1", "hls", 1, "fast", {}));
  int64_t probe = Ok(catalog_->StartDerivative("a1", "probe", 1, "p1", {}));
  clock_.Advance(30 * kSecond);
  Ok(catalog_->CompleteDerivative(hls, Done()));
  Ok(catalog_->CompleteDerivative(probe, Done()));
  EXPECT_EQ(history("fast", 10).samples, 4);
  StageHistory alone = history("fast", 10, true);
  EXPECT_EQ(alone.samples, 3);
  EXPECT_DOUBLE_EQ(alone.median_seconds, 2);
  EXPECT_EQ(Ok(catalog_->GetStageHistory({"probe", "p1", true, 10})).samples, 0);
}

TEST_P(CatalogContractTest, CompleteDerivativeRecordsTheOutcome) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  const int64_t started_at = clock_.NowMicros();
  int64_t id = Ok(catalog_->StartDerivative("a1", "hls", 3, "h3", {{"ladder", {360, 720}}}));
  clock_.Advance(2 * kSecond);
  DerivativeOutcome outcome = Done({{"segments", 12}, {"title", "caf\xc3\xa9"}});
  outcome.blobs = {{"index.m3u8", "assets/a1/hls/index.m3u8", 300, "application/vnd.apple.mpegurl"},
                   {"seg0.ts", "assets/a1/hls/seg0.ts", 1'000'000, "video/mp2t"},
                   {"seg1.ts", "assets/a1/hls/seg1.ts", int64_t{3} << 32, "video/mp2t"}};
  Derivative d = Ok(catalog_->CompleteDerivative(id, outcome));
  EXPECT_EQ(d.id, id);
  EXPECT_EQ(d.asset_id, "a1");
  EXPECT_EQ(d.stage, "hls");
  EXPECT_EQ(d.stage_version, 3);
  EXPECT_EQ(d.recipe, "h3");
  EXPECT_EQ(d.params, nlohmann::json({{"ladder", {360, 720}}}));
  EXPECT_EQ(d.state, DerivativeState::kDone);
  EXPECT_EQ(d.metadata, outcome.metadata);
  ASSERT_EQ(d.blobs.size(), 3u);
  EXPECT_EQ(d.blobs[0].name, "index.m3u8");
  EXPECT_EQ(d.blobs[0].key, "assets/a1/hls/index.m3u8");
  EXPECT_EQ(d.blobs[0].size, 300);
  EXPECT_EQ(d.blobs[0].content_type, "application/vnd.apple.mpegurl");
  EXPECT_EQ(d.blobs[2].size, int64_t{3} << 32);
  EXPECT_EQ(d.bytes, 300 + 1'000'000 + (int64_t{3} << 32));
  EXPECT_EQ(d.created_at, started_at);
  EXPECT_EQ(d.started_at, started_at);
  EXPECT_EQ(d.finished_at, started_at + 2 * kSecond);
  EXPECT_TRUE(d.error_code.empty());
  EXPECT_TRUE(d.skip_reason.empty());

  int64_t failing = Ok(catalog_->StartDerivative("a1", "transcript", 1, "t1", {}));
  DerivativeOutcome failure = Failed(ErrorCode::kUnavailable, "whisper server is down");
  failure.error->origin = "http:503";
  Derivative f = Ok(catalog_->CompleteDerivative(failing, failure));
  EXPECT_EQ(f.state, DerivativeState::kFailed);
  EXPECT_EQ(f.error_code, "unavailable");
  EXPECT_NE(f.error_message.find("whisper server is down"), std::string::npos);
  EXPECT_NE(f.error_message.find("http:503"), std::string::npos);
  EXPECT_EQ(f.bytes, 0);

  int64_t skipping = Ok(catalog_->StartDerivative("a1", "thumbnail", 1, "s1", {}));
  Derivative s = Ok(catalog_->CompleteDerivative(skipping, Skipped("no_video_stream")));
  EXPECT_EQ(s.state, DerivativeState::kSkipped);
  EXPECT_EQ(s.skip_reason, "no_video_stream");
}

TEST_P(CatalogContractTest, StartedDerivativeIsRunning) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->StartDerivative("a1", "probe", 1, "p1", {}));
  std::vector<Derivative> history = Ok(catalog_->ListDerivatives("a1"));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].id, id);
  EXPECT_EQ(history[0].state, DerivativeState::kRunning);
  EXPECT_EQ(history[0].attempts, 1);
  EXPECT_EQ(history[0].started_at, clock_.NowMicros());
  EXPECT_EQ(history[0].finished_at, 0);
  EXPECT_FALSE(history[0].current);
  EXPECT_EQ(catalog_->GetCurrentDerivative("a1", "probe").error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, CompleteDerivativeUpdatesAssetMediaInTheSameCall) {
  Asset before = Ok(catalog_->InsertAsset(MakeAsset("a1"))).asset;
  EXPECT_FALSE(before.media.duration_seconds.has_value());
  int64_t id = Ok(catalog_->StartDerivative("a1", "probe", 1, "p1", {}));
  clock_.Advance(kSecond);
  DerivativeOutcome outcome = Done({{"format", "mp4"}});
  outcome.asset_media = MediaSummary{AssetKind::kVideo, "mov,mp4,m4a,3gp,3g2,mj2", 10.5, 608, 1080};
  Ok(catalog_->CompleteDerivative(id, outcome));
  Asset after = Ok(catalog_->GetAsset("a1", {}));
  EXPECT_EQ(after.media.kind, AssetKind::kVideo);
  EXPECT_EQ(after.media.container, "mov,mp4,m4a,3gp,3g2,mj2");
  EXPECT_EQ(after.media.duration_seconds, 10.5);
  EXPECT_EQ(after.media.width, 608);
  EXPECT_EQ(after.media.height, 1080);
  EXPECT_EQ(after.updated_at, before.created_at + kSecond);
}

TEST_P(CatalogContractTest, CompleteDerivativeRefusesBadCalls) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->StartDerivative("a1", "probe", 1, "p1", {}));

  DerivativeOutcome still_running;
  still_running.state = DerivativeState::kRunning;
  DerivativeOutcome failed_without_error;
  failed_without_error.state = DerivativeState::kFailed;
  DerivativeOutcome skipped_without_reason;
  skipped_without_reason.state = DerivativeState::kSkipped;
  for (const auto& bad : {still_running, failed_without_error, skipped_without_reason}) {
    auto result = catalog_->CompleteDerivative(id, bad);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  }

  Ok(catalog_->CompleteDerivative(id, Failed()));
  // A late second completion (e.g. a worker whose lease was taken over) is refused and
  // changes nothing.
  auto twice = catalog_->CompleteDerivative(id, Done());
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->ListDerivatives("a1"))[0].state, DerivativeState::kFailed);

  auto unknown = catalog_->CompleteDerivative(id + 1000, Done());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, DerivativesNeedAnExistingAsset) {
  auto started = catalog_->StartDerivative("nope", "probe", 1, "p1", {});
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kNotFound) << started.error().ToString();
  auto listed = catalog_->ListDerivatives("nope");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kNotFound);
  auto statuses = catalog_->GetStageStatuses("nope", {{"probe", "p1"}});
  ASSERT_FALSE(statuses);
  EXPECT_EQ(statuses.error().code, ErrorCode::kNotFound);

  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  EXPECT_TRUE(Ok(catalog_->ListDerivatives("a1")).empty());
  auto empty_stage = catalog_->StartDerivative("a1", "", 1, "p1", {});
  ASSERT_FALSE(empty_stage);
  EXPECT_EQ(empty_stage.error().code, ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// Stage status

// One history per row: the attempts (recipe, outcome) in order, and the expected status
// for today's recipe "new".
struct StatusCase {
  std::string name;
  std::vector<std::pair<std::string, char>>
      attempts;  // outcome: d(one) f(ailed) s(kipped) r(unning)
  StageStatus expected;
};

TEST_P(CatalogContractTest, StageStatusCoversEveryCase) {
  const std::vector<StatusCase> cases = {
      {"nothing", {}, StageStatus::kMissing},
      {"only_running", {{"new", 'r'}}, StageStatus::kMissing},
      {"old_running_only", {{"old", 'r'}}, StageStatus::kMissing},
      {"done", {{"new", 'd'}}, StageStatus::kCurrent},
      {"done_old_recipe", {{"old", 'd'}}, StageStatus::kOutdated},
      {"old_done_new_running", {{"old", 'd'}, {"new", 'r'}}, StageStatus::kOutdated},
      {"failed", {{"new", 'f'}}, StageStatus::kFailed},
      {"failed_old_recipe_only", {{"old", 'f'}}, StageStatus::kOutdated},
      {"old_failed_new_running", {{"old", 'f'}, {"new", 'r'}}, StageStatus::kOutdated},
      {"new_failed_then_old_failed", {{"new", 'f'}, {"old", 'f'}}, StageStatus::kFailed},
      {"old_done_new_failed", {{"old", 'd'}, {"new", 'f'}}, StageStatus::kFailed},
      {"done_then_failed", {{"new", 'd'}, {"new", 'f'}}, StageStatus::kCurrent},
      {"failed_then_done", {{"new", 'f'}, {"new", 'd'}}, StageStatus::kCurrent},
      {"skipped", {{"new", 's'}}, StageStatus::kSkipped},
      {"old_done_new_skipped", {{"old", 'd'}, {"new", 's'}}, StageStatus::kSkipped},
      {"done_then_skipped", {{"new", 'd'}, {"new", 's'}}, StageStatus::kSkipped},
      {"skipped_then_done", {{"new", 's'}, {"new", 'd'}}, StageStatus::kCurrent},
      {"skipped_old_recipe", {{"old", 's'}}, StageStatus::kOutdated},
      {"old_done_then_old_skipped", {{"old", 'd'}, {"old", 's'}}, StageStatus::kOutdated},
      {"new_skipped_then_old_done", {{"new", 's'}, {"old", 'd'}}, StageStatus::kSkipped},
      {"new_done_then_old_done", {{"new", 'd'}, {"old", 'd'}}, StageStatus::kOutdated},
      {"failed_then_running", {{"new", 'f'}, {"new", 'r'}}, StageStatus::kFailed},
  };
  const StageRecipe today{"waveform", "new"};
  StageCounts expected_counts;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Ok(catalog_->InsertAsset(MakeAsset(c.name)));
    for (const auto& [recipe, outcome] : c.attempts) {
      int64_t id = Ok(catalog_->StartDerivative(c.name, "waveform", 1, recipe, {}));
      if (outcome == 'd') Ok(catalog_->CompleteDerivative(id, Done()));
      if (outcome == 'f') Ok(catalog_->CompleteDerivative(id, Failed()));
      if (outcome == 's') Ok(catalog_->CompleteDerivative(id, Skipped()));
    }
    // Another stage's rows never leak into this one.
    int64_t other = Ok(catalog_->StartDerivative(c.name, "probe", 1, "new", {}));
    Ok(catalog_->CompleteDerivative(other, Failed()));

    std::vector<StageStatus> statuses =
        Ok(catalog_->GetStageStatuses(c.name, {today, {"probe", "new"}, {"probe", "other"}}));
    ASSERT_EQ(statuses.size(), 3u);
    EXPECT_EQ(statuses[0], c.expected) << Name(statuses[0]) << " != " << Name(c.expected);
    EXPECT_EQ(statuses[1], StageStatus::kFailed);
    EXPECT_EQ(statuses[2], StageStatus::kOutdated) << "the latest probe result is another recipe's";
    EXPECT_EQ(ExpectedStatus(Ok(catalog_->ListDerivatives(c.name)), today), c.expected)
        << "the test's own reference rule disagrees";
    Add(expected_counts, c.expected);
  }
  StageCounts counts = Ok(catalog_->CountStageStatuses(today, {}));
  EXPECT_TRUE(counts == expected_counts) << Describe(counts) << " vs " << Describe(expected_counts);
  EXPECT_TRUE(Ok(catalog_->GetStageStatuses("done", {})).empty());

  // A backfill's scan reports each pair so that StatusOf gives the same status, and names
  // the recipe an outdated pair moves from even when its latest result is an old skip.
  std::map<std::string, std::string> from;
  std::vector<StagePair> pairs;
  Ok(catalog_->ScanStagePairs({today}, {}, [&](const StagePair& pair) {
    pairs.push_back(pair);  // the catalog is not called back from inside its scan
    from[pair.asset_id] = pair.FromRecipe(today.recipe);
    return true;
  }));
  EXPECT_EQ(pairs.size(), cases.size());
  for (const auto& pair : pairs) {
    EXPECT_EQ(StatusOf(pair, today.recipe),
              Ok(catalog_->GetStageStatuses(pair.asset_id, {today}))[0])
        << pair.asset_id;
  }
  EXPECT_EQ(from["skipped_old_recipe"], "old");
  EXPECT_EQ(from["failed_old_recipe_only"], "old");
  EXPECT_EQ(from["done_old_recipe"], "old");
  EXPECT_EQ(from["old_running_only"], "") << "a running attempt is no result";
  EXPECT_EQ(from["nothing"], "");
  EXPECT_EQ(from["failed"], "") << "today's recipe is no recipe to move from";
}

TEST_P(CatalogContractTest, CountStageStatusesAgreesWithBruteForceOverRandomHistories) {
  std::mt19937 random(20240611);
  // Content is shared between assets (and owners) from its own generator, so quarantine,
  // which is per content, spans several assets.
  std::mt19937 content_random(42);
  constexpr int kQuarantineThreshold = 2;
  const std::vector<std::string> owners = {"alice", "bob", "carol", "dave"};
  const std::vector<std::string> stages = {"probe", "thumbnail"};
  const std::vector<std::string> recipes = {"r1", "r2", "r3"};
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    if (random() % 4 == 0) clock_.Advance(kSecond);
    std::string id = "asset" + std::to_string(i);
    NewAsset in = MakeAsset(id, owners[random() % owners.size()]);
    in.media.kind = random() % 3 == 0 ? AssetKind::kAudio : AssetKind::kVideo;
    in.sha256_hex = "content" + std::to_string(content_random() % 200);
    Ok(catalog_->InsertAsset(in));
    if (random() % 2 == 0) Ok(catalog_->SetAssetStatus(id, AssetStatus::kReady));
    ids.push_back(id);
    for (const auto& stage : stages) {
      int attempts = static_cast<int>(random() % 5);
      std::vector<int64_t> open;  // started, not yet completed: completed out of order
      for (int a = 0; a < attempts; ++a) {
        const std::string& recipe = recipes[random() % recipes.size()];
        open.push_back(Ok(catalog_->StartDerivative(id, stage, 1, recipe, {})));
        if (random() % 3 == 0) continue;  // complete later, after a newer attempt
        while (!open.empty()) {
          int64_t derivative = open.back();
          open.pop_back();
          switch (random() % 7) {
            case 0:
            case 1:
            case 2:
              Ok(catalog_->CompleteDerivative(derivative, Done()));
              break;
            case 3:
            case 4:
              Ok(catalog_->CompleteDerivative(derivative, Failed()));
              break;
            case 5:
              Ok(catalog_->CompleteDerivative(derivative, Skipped()));
              break;
            default:
              break;  // left running, as after a crash
          }
        }
      }
    }
  }

  std::vector<AssetFilter> filters(1);
  for (const auto& owner : owners) {
    AssetFilter f;
    f.owner = owner;
    filters.push_back(f);
  }
  AssetFilter audio;
  audio.kind = AssetKind::kAudio;
  filters.push_back(audio);
  AssetFilter ready_bob;
  ready_bob.owner = "bob";
  ready_bob.status = AssetStatus::kReady;
  filters.push_back(ready_bob);
  AssetFilter some_ids;
  for (size_t i = 0; i < ids.size(); i += 3) some_ids.ids.push_back(ids[i]);
  filters.push_back(some_ids);

  std::map<std::string, Asset> assets;
  std::map<std::string, std::vector<Derivative>> histories;
  for (const auto& id : ids) {
    assets[id] = Ok(catalog_->GetAsset(id, {}));
    histories[id] = Ok(catalog_->ListDerivatives(id));
  }

  // Failed attempts per (content, stage, recipe) over every asset with that content; each
  // asset's content is checked for quarantine with r2, as a worker would after a failure.
  std::map<std::tuple<std::string, std::string, std::string>, int> failures;
  for (const auto& id : ids) {
    for (const auto& d : histories[id]) {
      if (d.state == DerivativeState::kFailed) {
        ++failures[{assets[id].sha256_hex, d.stage, d.recipe}];
      }
    }
  }
  auto quarantined = [&](const std::string& id, const StageRecipe& today) {
    auto it = failures.find({assets[id].sha256_hex, today.stage, today.recipe});
    return it != failures.end() && it->second >= kQuarantineThreshold && today.recipe == "r2";
  };
  for (const auto& stage : stages) {
    for (const auto& id : ids) {
      bool expected = quarantined(id, {stage, "r2"});
      EXPECT_EQ(Ok(catalog_->QuarantineIfRepeated(id, stage, "r2", kQuarantineThreshold)), expected)
          << id << " " << stage;
    }
  }

  for (const auto& stage : stages) {
    for (const auto& recipe : {std::string("r2"), std::string("never-used")}) {
      const StageRecipe today{stage, recipe};
      std::map<std::string, StageStatus> per_asset;
      for (const auto& id : ids) {
        StageStatus expected = ExpectedStatus(histories[id], today, quarantined(id, today));
        StageStatus reported = Ok(catalog_->GetStageStatuses(id, {today}))[0];
        EXPECT_EQ(reported, expected) << id << " " << stage << "@" << recipe;
        per_asset[id] = expected;
      }
      for (size_t f = 0; f < filters.size(); ++f) {
        const AssetFilter& filter = filters[f];
        StageCounts expected;
        for (const auto& id : ids) {
          const Asset& a = assets[id];
          if (filter.owner && a.owner != *filter.owner) continue;
          if (filter.kind && a.media.kind != *filter.kind) continue;
          if (filter.status && a.status != *filter.status) continue;
          if (!filter.ids.empty() &&
              std::find(filter.ids.begin(), filter.ids.end(), id) == filter.ids.end()) {
            continue;
          }
          Add(expected, per_asset[id]);
        }
        StageCounts counted = Ok(catalog_->CountStageStatuses(today, filter));
        EXPECT_TRUE(counted == expected) << stage << "@" << recipe << " filter " << f << ": "
                                         << Describe(counted) << " vs " << Describe(expected);
      }
      // The scan a backfill plans from gives every pair the same status.
      size_t scanned = 0;
      Ok(catalog_->ScanStagePairs({today}, {}, [&](const StagePair& pair) {
        ++scanned;
        EXPECT_EQ(StatusOf(pair, recipe), per_asset[pair.asset_id])
            << pair.asset_id << " " << stage << "@" << recipe;
        return true;
      }));
      EXPECT_EQ(scanned, ids.size());
    }
  }
  // The random histories must actually exercise every class.
  StageCounts overall = Ok(catalog_->CountStageStatuses({"probe", "r2"}, {}));
  EXPECT_GT(overall.current, 0);
  EXPECT_GT(overall.outdated, 0);
  EXPECT_GT(overall.missing, 0);
  EXPECT_GT(overall.failed, 0);
  EXPECT_GT(overall.skipped, 0);
  EXPECT_GT(overall.quarantined, 0);
}

// ---------------------------------------------------------------------------------------
// Concurrency

TEST_P(CatalogContractTest, ConcurrentWritersOnTwoConnectionsNeverFailOrDuplicate) {
  auto second = Ok(env_->Connect(clock_));
  std::vector<Catalog*> connections = {catalog_.get(), second.get()};
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  constexpr int kShared = 5;
  std::atomic<int> shared_created{0};
  std::vector<std::string> errors[kThreads];

  auto work = [&](int t) {
    Catalog& catalog = *connections[t % 2];
    auto note = [&](const Error& e) { errors[t].push_back(e.ToString()); };
    for (int i = 0; i < kPerThread; ++i) {
      std::string own = "t" + std::to_string(t) + "-" + std::to_string(i);
      auto inserted = catalog.InsertAsset(MakeAsset(own));
      if (!inserted) note(inserted.error());
      std::string shared = "shared-" + std::to_string(i % kShared);
      auto shared_insert = catalog.InsertAsset(MakeAsset(shared));
      if (!shared_insert) {
        note(shared_insert.error());
        continue;
      }
      if (shared_insert->created) ++shared_created;
      for (const auto& asset_id : {own, shared}) {
        auto started = catalog.StartDerivative(asset_id, "probe", 1, "p1", {});
        if (!started) {
          note(started.error());
          continue;
        }
        auto completed = catalog.CompleteDerivative(*started, i % 3 == 0 ? Failed() : Done());
        if (!completed) note(completed.error());
      }
      auto listed = catalog.ListAssets({}, {});
      if (!listed) note(listed.error());
      auto counted = catalog.CountStageStatuses({"probe", "p1"}, {});
      if (!counted) note(counted.error());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    for (const auto& error : errors[t]) ADD_FAILURE() << "thread " << t << ": " << error;
  }
  EXPECT_EQ(shared_created.load(), kShared);
  EXPECT_EQ(Ok(catalog_->CountAssets({})), kThreads * kPerThread + kShared);
  for (int s = 0; s < kShared; ++s) {
    std::vector<Derivative> history = Ok(second->ListDerivatives("shared-" + std::to_string(s)));
    ASSERT_EQ(history.size(), static_cast<size_t>(kThreads * kPerThread / kShared));
    std::set<int> attempts;
    int current = 0;
    for (const auto& d : history) {
      attempts.insert(d.attempts);
      if (d.current) ++current;
    }
    // Counting and inserting an attempt is one transaction: numbers are 1..n, no repeats.
    EXPECT_EQ(attempts.size(), history.size());
    EXPECT_EQ(*attempts.begin(), 1);
    EXPECT_EQ(*attempts.rbegin(), static_cast<int>(history.size()));
    EXPECT_EQ(current, 1);
  }
}

TEST_P(CatalogContractTest, ManyThreadsShareOneCatalog) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  constexpr int kThreads = 6;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto id = catalog_->StartDerivative("a1", "stage" + std::to_string(t), 1, "r", {});
        if (!id || !catalog_->CompleteDerivative(*id, Done()) ||
            !catalog_->GetCurrentDerivative("a1", "stage" + std::to_string(t)) ||
            !catalog_->ListDerivatives("a1")) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Ok(catalog_->ListDerivatives("a1")).size(), static_cast<size_t>(kThreads * 25));
}

}  // namespace
}  // namespace reprise::catalog
