// The API-token part of the Catalog contract (catalog.h, "API tokens"). Runs against
// every backend like catalog_contract_test.cc; nothing here names a database.

#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/hash.h"
#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

NewApiToken MakeToken(const std::string& secret, const std::string& owner = "alice",
                      bool admin = false) {
  NewApiToken token;
  token.name = "token for " + (owner.empty() ? std::string("admin") : owner);
  token.owner = owner;
  token.admin = admin;
  token.sha256_hex = HexLower(Sha256Of(secret));
  return token;
}

TEST_P(CatalogContractTest, ApiTokenInsertedIsFoundByItsHashAndListed) {
  ApiToken alice = Ok(catalog_->InsertApiToken(MakeToken("secret-a")));
  EXPECT_GT(alice.id, 0);
  EXPECT_EQ(alice.owner, "alice");
  EXPECT_FALSE(alice.admin);
  EXPECT_EQ(alice.name, "token for alice");
  EXPECT_EQ(alice.created_at, clock_.NowMicros());
  EXPECT_EQ(alice.last_used_at, 0);
  EXPECT_TRUE(alice.active());
  clock_.Advance(kSecond);
  ApiToken admin = Ok(catalog_->InsertApiToken(MakeToken("secret-root", "", true)));
  EXPECT_TRUE(admin.admin);
  EXPECT_EQ(admin.owner, "");

  ApiToken found = Ok(catalog_->FindApiToken(HexLower(Sha256Of("secret-a"))));
  EXPECT_EQ(found.id, alice.id);
  EXPECT_EQ(found.sha256_hex, alice.sha256_hex);
  EXPECT_EQ(catalog_->FindApiToken(HexLower(Sha256Of("secret-b"))).error().code,
            ErrorCode::kNotFound);

  std::vector<ApiToken> all = Ok(catalog_->ListApiTokens());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, alice.id);
  EXPECT_EQ(all[1].id, admin.id);
  EXPECT_EQ(Ok(catalog_->CountActiveApiTokens()), 2);
}

TEST_P(CatalogContractTest, ApiTokenRulesAreCheckedOnInsert) {
  auto bad_hash = MakeToken("x");
  bad_hash.sha256_hex = "not-a-hash";
  EXPECT_EQ(catalog_->InsertApiToken(bad_hash).error().code, ErrorCode::kInvalidArgument);
  auto upper = MakeToken("x");
  for (auto& c : upper.sha256_hex) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(catalog_->InsertApiToken(upper).error().code, ErrorCode::kInvalidArgument)
      << "hashes are compared as stored: one spelling only";
  EXPECT_EQ(catalog_->InsertApiToken(MakeToken("x", "")).error().code, ErrorCode::kInvalidArgument)
      << "an owner token needs its owner";
  Ok(catalog_->InsertApiToken(MakeToken("x")));
  EXPECT_EQ(catalog_->InsertApiToken(MakeToken("x", "bob")).error().code, ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->CountActiveApiTokens()), 1);
}

TEST_P(CatalogContractTest, ApiTokenRevokedKeepsItsRowAndFirstRevocationTime) {
  ApiToken token = Ok(catalog_->InsertApiToken(MakeToken("secret-a")));
  Ok(catalog_->InsertApiToken(MakeToken("secret-b", "bob")));
  clock_.Advance(5 * kSecond);
  const int64_t revoked_at = clock_.NowMicros();
  ApiToken revoked = Ok(catalog_->RevokeApiToken(token.id));
  EXPECT_EQ(revoked.revoked_at, revoked_at);
  EXPECT_FALSE(revoked.active());
  EXPECT_EQ(Ok(catalog_->CountActiveApiTokens()), 1);

  clock_.Advance(5 * kSecond);
  EXPECT_EQ(Ok(catalog_->RevokeApiToken(token.id)).revoked_at, revoked_at)
      << "revoking twice keeps the first time";
  EXPECT_EQ(Ok(catalog_->FindApiToken(token.sha256_hex)).revoked_at, revoked_at)
      << "a revoked token is still found, so it can be told apart from an unknown one";
  EXPECT_EQ(Ok(catalog_->ListApiTokens()).size(), 2u);
  EXPECT_EQ(catalog_->RevokeApiToken(token.id + 100).error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, ApiTokenLastUseNeverMovesBackwards) {
  ApiToken token = Ok(catalog_->InsertApiToken(MakeToken("secret-a")));
  const int64_t t0 = clock_.NowMicros();
  Ok(catalog_->TouchApiToken(token.id, t0 + 10 * kSecond));
  EXPECT_EQ(Ok(catalog_->FindApiToken(token.sha256_hex)).last_used_at, t0 + 10 * kSecond);
  Ok(catalog_->TouchApiToken(token.id, t0 + 3 * kSecond));
  EXPECT_EQ(Ok(catalog_->FindApiToken(token.sha256_hex)).last_used_at, t0 + 10 * kSecond)
      << "a late, older report does not undo a newer one";
  Ok(catalog_->TouchApiToken(token.id, t0 + 70 * kSecond));
  EXPECT_EQ(Ok(catalog_->ListApiTokens())[0].last_used_at, t0 + 70 * kSecond);
  EXPECT_EQ(catalog_->TouchApiToken(token.id + 100, t0).error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, ApiTokensAreSharedByConnectionsToOneCatalog) {
  ApiToken token = Ok(catalog_->InsertApiToken(MakeToken("secret-a")));
  auto other = Ok(env_->Connect(clock_));
  EXPECT_EQ(Ok(other->FindApiToken(token.sha256_hex)).id, token.id);
  Ok(other->RevokeApiToken(token.id));
  EXPECT_EQ(Ok(catalog_->CountActiveApiTokens()), 0)
      << "a revocation by another process is seen at the next read";
}

}  // namespace
}  // namespace reprise::catalog
