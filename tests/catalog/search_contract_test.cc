// Catalog::Search (catalog.h "Full-text search", catalog/search.h), run against every
// backend like catalog_contract_test.cc: the same data gives the same hits on SQLite
// (FTS5) and PostgreSQL (tsvector).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/where.h"
#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

SearchEntry Said(std::string text, double start, double end) {
  return {"transcript", std::move(text), start, end, -1};
}

// Completes a new done derivative of (asset, stage, recipe) with `entries`.
int64_t Complete(Catalog& catalog, const std::string& asset, const std::string& stage,
                 const std::string& recipe, std::vector<SearchEntry> entries) {
  int64_t id = Ok(catalog.StartDerivative(asset, stage, 1, recipe, nlohmann::json::object()));
  DerivativeOutcome outcome = Done();
  outcome.search = std::move(entries);
  Ok(catalog.CompleteDerivative(id, outcome));
  return id;
}

SearchPage Find(Catalog& catalog, const std::string& text, const AssetFilter& scope = {},
                std::vector<std::string> kinds = {}) {
  SearchQuery query;
  query.text = text;
  query.kinds = std::move(kinds);
  return Ok(catalog.Search(query, scope));
}

std::vector<std::string> Texts(const SearchPage& page) {
  std::vector<std::string> texts;
  for (const auto& hit : page.hits) texts.push_back(hit.text);
  return texts;
}

TEST_P(CatalogContractTest, SearchFindsEntriesOfADoneDerivativeWithTheirTimes) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Complete(*catalog_, "a1", "transcript", "r1",
           {Said("go forward ten meters", 1.5, 3.25), Said("Then turn LEFT at the dog", 4, 6.5),
            Said("", 7, 8)});
  SearchEntry tag{"tag", "dog", -1, -1, 2};
  Complete(*catalog_, "a1", "semantics", "s1", {tag});

  SearchPage page = Find(*catalog_, "Ten  meters");
  ASSERT_EQ(page.hits.size(), 1u);
  const SearchHit& hit = page.hits[0];
  EXPECT_EQ(hit.asset_id, "a1");
  EXPECT_EQ(hit.asset_name, "a1.mp4");
  EXPECT_EQ(hit.stage, "transcript");
  EXPECT_EQ(hit.kind, "transcript");
  EXPECT_EQ(hit.text, "go forward ten meters");
  EXPECT_DOUBLE_EQ(hit.start, 1.5);
  EXPECT_DOUBLE_EQ(hit.end, 3.25);
  EXPECT_EQ(hit.scene, -1);
  EXPECT_TRUE(page.next_cursor.empty());

  // Case is ignored; every word must occur.
  EXPECT_EQ(Texts(Find(*catalog_, "left")), std::vector<std::string>{"Then turn LEFT at the dog"});
  EXPECT_TRUE(Find(*catalog_, "ten dog").hits.empty());
  SearchPage dogs = Find(*catalog_, "dog");
  ASSERT_EQ(dogs.hits.size(), 2u);
  SearchPage tags = Find(*catalog_, "dog", {}, {"tag"});
  ASSERT_EQ(tags.hits.size(), 1u);
  EXPECT_EQ(tags.hits[0].stage, "semantics");
  EXPECT_EQ(tags.hits[0].scene, 2);
  EXPECT_DOUBLE_EQ(tags.hits[0].start, -1);
  // No stemming, no prefixes.
  EXPECT_TRUE(Find(*catalog_, "dogs").hits.empty());
  EXPECT_TRUE(Find(*catalog_, "meter").hits.empty());
}

TEST_P(CatalogContractTest, SearchFindsAssetNames) {
  NewAsset asset = MakeAsset("a1");
  asset.original_name = "Holiday_2024-Beach.MOV";
  Ok(catalog_->InsertAsset(asset));
  SearchPage page = Find(*catalog_, "beach holiday");
  ASSERT_EQ(page.hits.size(), 1u);
  EXPECT_EQ(page.hits[0].kind, "name");
  EXPECT_EQ(page.hits[0].stage, "");
  EXPECT_EQ(page.hits[0].text, "Holiday_2024-Beach.MOV");
  EXPECT_DOUBLE_EQ(page.hits[0].start, -1);
  EXPECT_EQ(Find(*catalog_, "2024").hits.size(), 1u);
  EXPECT_TRUE(Find(*catalog_, "beach", {}, {"transcript"}).hits.empty());
}

TEST_P(CatalogContractTest, SearchIsScopedByOwnerAndFilters) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  Ok(catalog_->InsertAsset(MakeAsset("b1", "bob")));
  Complete(*catalog_, "a1", "transcript", "r1", {Said("the secret word is apple", 0, 2)});
  Complete(*catalog_, "b1", "transcript", "r1", {Said("an apple a day", 0, 2)});
  AssetFilter alice;
  alice.owner = "alice";
  AssetFilter bob;
  bob.owner = "bob";
  AssetFilter carol;
  carol.owner = "carol";
  EXPECT_EQ(Find(*catalog_, "apple").hits.size(), 2u);  // an admin sees every owner
  EXPECT_EQ(Texts(Find(*catalog_, "apple", alice)),
            std::vector<std::string>{"the secret word is apple"});
  EXPECT_EQ(Texts(Find(*catalog_, "apple", bob)), std::vector<std::string>{"an apple a day"});
  EXPECT_TRUE(Find(*catalog_, "secret", bob).hits.empty());
  EXPECT_TRUE(Find(*catalog_, "apple", carol).hits.empty());
  AssetFilter only_b1;
  only_b1.ids = {"b1"};
  EXPECT_EQ(Find(*catalog_, "apple", only_b1).hits.size(), 1u);
}

TEST_P(CatalogContractTest, SearchRanksByRelevanceThenTimeAndPages) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Complete(
      *catalog_, "a1", "transcript", "r1",
      {Said("a long sentence that mentions the harbour only once among many other words", 9, 12),
       Said("harbour harbour", 20, 21), Said("harbour lights", 3, 4),
       Said("harbour lights", 1, 2)});
  SearchPage page = Find(*catalog_, "harbour");
  ASSERT_EQ(page.hits.size(), 4u);
  EXPECT_EQ(page.hits[0].text, "harbour harbour");
  EXPECT_GT(page.hits[0].rank, page.hits[1].rank);
  // Equal relevance: earlier first.
  EXPECT_EQ(page.hits[1].text, "harbour lights");
  EXPECT_DOUBLE_EQ(page.hits[1].start, 1);
  EXPECT_DOUBLE_EQ(page.hits[2].start, 3);
  EXPECT_GT(page.hits[2].rank, page.hits[3].rank);
  EXPECT_DOUBLE_EQ(page.hits[3].start, 9);

  SearchQuery query;
  query.text = "harbour";
  query.limit = 3;
  SearchPage first = Ok(catalog_->Search(query, {}));
  ASSERT_EQ(first.hits.size(), 3u);
  ASSERT_FALSE(first.next_cursor.empty());
  query.cursor = first.next_cursor;
  SearchPage second = Ok(catalog_->Search(query, {}));
  ASSERT_EQ(second.hits.size(), 1u);
  EXPECT_DOUBLE_EQ(second.hits[0].start, 9);
  EXPECT_TRUE(second.next_cursor.empty());
}

TEST_P(CatalogContractTest, SearchFindsOnlyTheCurrentResultAndRollbackBringsTheOldTextBack) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Complete(*catalog_, "a1", "transcript", "r1", {Said("old words about a walrus", 0, 1)});
  EXPECT_EQ(Find(*catalog_, "walrus").hits.size(), 1u);
  // A failed or skipped attempt keeps the old result current, and stores nothing.
  int64_t failed = Ok(catalog_->StartDerivative("a1", "transcript", 1, "r2", {}));
  DerivativeOutcome failure = Failed();
  failure.search = {Said("never stored penguin", 0, 1)};
  Ok(catalog_->CompleteDerivative(failed, failure));
  EXPECT_EQ(Find(*catalog_, "walrus").hits.size(), 1u);
  EXPECT_TRUE(Find(*catalog_, "penguin").hits.empty());

  Complete(*catalog_, "a1", "transcript", "r2", {Said("new words about a narwhal", 0, 1)});
  EXPECT_TRUE(Find(*catalog_, "walrus").hits.empty());
  EXPECT_EQ(Find(*catalog_, "narwhal").hits.size(), 1u);
  EXPECT_TRUE(Find(*catalog_, "words").hits.size() == 1u);

  RollbackRequest rollback;
  rollback.stage = "transcript";
  EXPECT_EQ(Ok(catalog_->RollbackDerivatives(rollback, {})).rolled_back, 1);
  EXPECT_EQ(Texts(Find(*catalog_, "walrus")), std::vector<std::string>{"old words about a walrus"});
  EXPECT_TRUE(Find(*catalog_, "narwhal").hits.empty());
}

TEST_P(CatalogContractTest, SearchEntriesGoWithTheirAsset) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  Complete(*catalog_, "a1", "transcript", "r1", {Said("marmalade sandwich", 0, 1)});
  Complete(*catalog_, "a2", "transcript", "r1", {Said("marmalade jar", 0, 1)});
  Ok(catalog_->DeleteAsset("a1", {}));
  EXPECT_EQ(Texts(Find(*catalog_, "marmalade")), std::vector<std::string>{"marmalade jar"});
  EXPECT_TRUE(Find(*catalog_, "a1").hits.empty());  // its name too
  EXPECT_EQ(Find(*catalog_, "a2").hits.size(), 1u);
}

TEST_P(CatalogContractTest, SearchTakesHostileQueriesAsPlainWords) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Complete(*catalog_, "a1", "transcript", "r1",
           {Said("near or not and x", 0, 1), Said("it's a well-known fact", 2, 3)});
  for (const char* text :
       {"\"", "*", ")(", "-", "'", "\\", ":", "^", "''", "\"\"\"", "%", "&|!", "(*)", "!:*"}) {
    auto page = catalog_->Search(SearchQuery{text, {}, 20, ""}, {});
    ASSERT_TRUE(page) << text << ": " << page.error().ToString();
    EXPECT_TRUE(page->hits.empty()) << text;
  }
  for (const char* text : {"OR", "NEAR(", "-x", "x*", "\"x", "NOT", "AND and", "x) OR (near",
                           "near/x", "{x}", "x^", "x:"}) {
    auto page = catalog_->Search(SearchQuery{text, {}, 20, ""}, {});
    ASSERT_TRUE(page) << text << ": " << page.error().ToString();
    EXPECT_EQ(Texts(*page), std::vector<std::string>{"near or not and x"}) << text;
  }
  EXPECT_EQ(Texts(Find(*catalog_, "well-known")),
            std::vector<std::string>{"it's a well-known fact"});
  EXPECT_EQ(Texts(Find(*catalog_, "known it's")),
            std::vector<std::string>{"it's a well-known fact"});
}

TEST_P(CatalogContractTest, SearchRefusesBadQueries) {
  auto code = [&](SearchQuery query) { return catalog_->Search(query, {}).error().code; };
  EXPECT_EQ(code({"", {}, 20, ""}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"  \t", {}, 20, ""}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"x", {}, 0, ""}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"x", {}, kSearchMaxLimit + 1, ""}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"x", {}, 20, "bogus"}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"x", {}, 20, "s-1"}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({"x", {""}, 20, ""}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code({std::string(kSearchMaxQueryBytes + 1, 'x'), {}, 20, ""}),
            ErrorCode::kInvalidArgument);
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->StartDerivative("a1", "transcript", 1, "r1", {}));
  DerivativeOutcome outcome = Done();
  outcome.search = {{"", "no kind", -1, -1, -1}};
  EXPECT_EQ(catalog_->CompleteDerivative(id, outcome).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, WhereTagReadsTheTagEntriesOfCurrentResults) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  Ok(catalog_->InsertAsset(MakeAsset("a3")));
  Complete(*catalog_, "a1", "semantics", "s1", {{"tag", "dog", -1, -1, 0}});
  Complete(*catalog_, "a2", "semantics", "s1", {{"description", "a dog runs", 0, 4, 0}});
  Complete(*catalog_, "a3", "semantics", "s1", {{"tag", "Dog", -1, -1, 0}});
  auto selected = [&](const std::string& where) {
    AssetFilter filter;
    filter.where = Ok(ParseWhere(where));
    std::vector<std::string> ids;
    for (const auto& asset : Ok(catalog_->ListAssets(filter, {})).items) ids.push_back(asset.id);
    return ids;
  };
  EXPECT_EQ(selected("tag = \"dog\""), std::vector<std::string>{"a1"});
  EXPECT_EQ(selected("tag in (\"cat\", \"Dog\")"), std::vector<std::string>{"a3"});
  EXPECT_EQ(selected("not tag = \"dog\""), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_EQ(selected("has(semantics) and tag = \"dog\""), std::vector<std::string>{"a1"});

  // A newer result without the tag hides it; a rollback brings it back.
  Complete(*catalog_, "a1", "semantics", "s2", {{"tag", "cat", -1, -1, 0}});
  EXPECT_TRUE(selected("tag = \"dog\"").empty());
  RollbackRequest rollback;
  rollback.stage = "semantics";
  AssetFilter only_a1;
  only_a1.ids = {"a1"};
  EXPECT_EQ(Ok(catalog_->RollbackDerivatives(rollback, only_a1)).rolled_back, 1);
  EXPECT_EQ(selected("tag = \"dog\""), std::vector<std::string>{"a1"});
}

}  // namespace
}  // namespace reprise::catalog
