// TokensService over a real SQLite catalog and a fake clock: minting, the rules of who
// a token is, how long a revocation made elsewhere may lag (the cache bound, reached by
// moving the clock, never by sleeping), how often last use is written, and open mode.

#include "services/tokens_service.h"

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/sqlite/sqlite_catalog.h"
#include "core/hash.h"
#include "tests/support/test_support.h"

namespace reprise::services {
namespace {

constexpr int64_t kSecond = 1'000'000;

class TokensServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = Open();
    service_ = std::make_unique<TokensService>(*catalog_, clock_, MakeNullLogger());
  }

  // Another connection to the same catalog file: what another process sees and does.
  std::unique_ptr<catalog::Catalog> Open() {
    auto catalog = catalog::SqliteCatalog::Open(dir_.Join("catalog.db"), clock_);
    EXPECT_TRUE(catalog) << catalog.error().ToString();
    return std::move(*catalog);
  }

  CreatedToken Create(const std::string& owner, bool admin = false, const std::string& name = {}) {
    auto created = service_->Create(Caller::Admin(), owner, admin, name);
    EXPECT_TRUE(created) << created.error().ToString();
    return created ? *created : CreatedToken{};
  }

  int64_t LastUsed(int64_t id) {
    auto tokens = catalog_->ListApiTokens();
    EXPECT_TRUE(tokens) << tokens.error().ToString();
    for (const auto& token : tokens.value_or(std::vector<catalog::ApiToken>{})) {
      if (token.id == id) return token.last_used_at;
    }
    ADD_FAILURE() << "no token " << id;
    return -1;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<TokensService> service_;
};

TEST_F(TokensServiceTest, CreateReturnsTheTokenOnceAndStoresOnlyItsHash) {
  CreatedToken alice = Create("alice", false, "laptop");
  EXPECT_TRUE(std::regex_match(alice.token, std::regex("rpt_[A-Za-z0-9_-]{43}"))) << alice.token;
  EXPECT_EQ(alice.record.owner, "alice");
  EXPECT_EQ(alice.record.name, "laptop");
  EXPECT_EQ(alice.record.sha256_hex, HexLower(Sha256Of(alice.token)));
  CreatedToken again = Create("alice");
  EXPECT_NE(again.token, alice.token);
  EXPECT_EQ(again.record.name, "alice") << "the name defaults to the owner";
  EXPECT_EQ(Create("", true).record.name, "admin");

  auto listed = service_->List(Caller::Admin());
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3u);
  const std::string view = TokenJson(listed->front()).dump();
  EXPECT_EQ(view.find(alice.token), std::string::npos);
  EXPECT_EQ(view.find(alice.record.sha256_hex), std::string::npos) << "nor its hash";
  EXPECT_EQ(TokenJson(listed->front())["state"], "active");
  EXPECT_EQ(TokenJson(listed->front())["last_used_at"], nullptr);
}

TEST_F(TokensServiceTest, CreateChecksItsArgumentsAndItsCaller) {
  EXPECT_EQ(service_->Create(Caller::Admin(), "", false, "x").error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(service_->Create(Caller::Admin(), "bad\nowner", false, "").error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(service_->Create(Caller::Admin(), "alice", false, std::string(201, 'n')).error().code,
            ErrorCode::kInvalidArgument);
  auto owner = Caller::Owner("alice");
  EXPECT_EQ(service_->Create(owner, "alice", false, "").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_->List(owner).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_->Revoke(owner, 1).error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(service_->List(Caller::Admin())->empty()) << "nothing was stored";
}

TEST_F(TokensServiceTest, AuthenticateGivesTheOwnersCallerOrAnAdmin) {
  CreatedToken alice = Create("alice", false, "laptop");
  CreatedToken root = Create("", true, "ops");
  auto caller = service_->Authenticate(alice.token);
  ASSERT_TRUE(caller) << caller.error().ToString();
  EXPECT_FALSE(caller->admin);
  EXPECT_EQ(caller->owner, "alice");
  EXPECT_EQ(caller->token_name, "laptop");
  auto admin = service_->Authenticate(root.token);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(admin->admin);
  EXPECT_EQ(admin->token_name, "ops");
  // A second service on the catalog (no cache yet) agrees.
  auto other = Open();
  TokensService fresh(*other, clock_, MakeNullLogger());
  EXPECT_EQ(fresh.Authenticate(alice.token)->owner, "alice");
}

TEST_F(TokensServiceTest, UnknownMalformedAndRevokedTokensAreNotFound) {
  CreatedToken alice = Create("alice");
  std::string altered = alice.token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  for (const std::string& token :
       {altered, std::string("rpt_short"), alice.token + "x", std::string("Bearer ") + alice.token,
        std::string(alice.token).replace(0, 4, "rpx_"), std::string()}) {
    auto caller = service_->Authenticate(token);
    ASSERT_FALSE(caller) << token;
    EXPECT_EQ(caller.error().code, ErrorCode::kNotFound) << token;
  }
  ASSERT_TRUE(service_->Revoke(Caller::Admin(), alice.record.id));
  EXPECT_EQ(service_->Authenticate(alice.token).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_->Revoke(Caller::Admin(), 999).error().code, ErrorCode::kNotFound);
}

TEST_F(TokensServiceTest, RevokeThroughThisServiceTakesEffectAtOnce) {
  CreatedToken alice = Create("alice");
  ASSERT_TRUE(service_->Authenticate(alice.token)) << "now cached";
  auto revoked = service_->Revoke(Caller::Admin(), alice.record.id);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(TokenJson(*revoked)["state"], "revoked");
  EXPECT_FALSE(service_->Authenticate(alice.token)) << "no clock movement needed";
}

TEST_F(TokensServiceTest, RevokeElsewhereTakesEffectWithinTheCacheBound) {
  CreatedToken alice = Create("alice");
  CreatedToken bob = Create("bob");
  ASSERT_TRUE(service_->Authenticate(alice.token));
  // `reprise tokens revoke` in another process: its own catalog connection and service.
  auto elsewhere = Open();
  TokensService cli(*elsewhere, clock_, MakeNullLogger());
  ASSERT_TRUE(cli.Revoke(Caller::Admin(), alice.record.id));
  EXPECT_FALSE(cli.Authenticate(alice.token));

  const int64_t bound = TokensService::Options{}.cache_micros;
  clock_.Advance(bound - 1);
  EXPECT_TRUE(service_->Authenticate(alice.token)) << "still inside the documented bound";
  clock_.Advance(1);
  EXPECT_FALSE(service_->Authenticate(alice.token)) << "revoked once the bound has passed";
  EXPECT_TRUE(service_->Authenticate(bob.token)) << "other tokens are unaffected";
}

TEST_F(TokensServiceTest, LastUseIsWrittenAtMostOncePerMinutePerToken) {
  CreatedToken alice = Create("alice");
  const int64_t t0 = clock_.NowMicros();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(service_->Authenticate(alice.token));
  EXPECT_EQ(LastUsed(alice.record.id), t0) << "the first use is recorded";
  // Later uses within the minute leave the catalog alone (cache refreshes included).
  clock_.Advance(59 * kSecond);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(service_->Authenticate(alice.token));
  EXPECT_EQ(LastUsed(alice.record.id), t0);
  clock_.Advance(1 * kSecond);
  ASSERT_TRUE(service_->Authenticate(alice.token));
  EXPECT_EQ(LastUsed(alice.record.id), t0 + 60 * kSecond);
  auto listed = service_->List(Caller::Admin());
  EXPECT_EQ(TokenJson(listed->front())["last_used_at"], FormatRfc3339(t0 + 60 * kSecond));
}

TEST_F(TokensServiceTest, AFullCacheStillAuthenticatesEveryToken) {
  TokensService small(
      *catalog_, clock_, MakeNullLogger(),
      TokensService::Options{
          .cache_micros = 5 * kSecond, .touch_every_micros = 60 * kSecond, .max_cached = 2});
  std::vector<CreatedToken> tokens;
  for (const char* owner : {"a", "b", "c", "d", "e"}) tokens.push_back(Create(owner));
  for (int round = 0; round < 3; ++round) {
    for (const auto& token : tokens) {
      auto caller = small.Authenticate(token.token);
      ASSERT_TRUE(caller);
      EXPECT_EQ(caller->owner, token.record.owner);
    }
  }
}

TEST_F(TokensServiceTest, OpenModeOnlyOnLoopbackAndOnlyWhileNoTokenIsActive) {
  auto open = service_->CallerOf("", /*open_allowed=*/true);
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->admin);
  EXPECT_EQ(open->token_name, "open");
  EXPECT_EQ(service_->CallerOf("", /*open_allowed=*/false).error().code, ErrorCode::kNotFound)
      << "beyond loopback a request without a token is never an admin";

  // A token created by another process closes the server within the cache bound,
  // without a restart.
  auto elsewhere = Open();
  TokensService cli(*elsewhere, clock_, MakeNullLogger());
  auto created = cli.Create(Caller::Admin(), "alice", false, "");
  ASSERT_TRUE(created);
  clock_.Advance(TokensService::Options{}.cache_micros);
  EXPECT_EQ(service_->CallerOf("", true).error().code, ErrorCode::kNotFound);
  auto alice = service_->CallerOf(created->token, true);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->owner, "alice");
  EXPECT_EQ(service_->CallerOf("rpt_wrong", true).error().code, ErrorCode::kNotFound)
      << "a bad token is refused, never taken for an open request";

  // Revoking the last token here opens it again at once; a token made here closes it
  // at once.
  ASSERT_TRUE(service_->Revoke(Caller::Admin(), created->record.id));
  EXPECT_TRUE(service_->CallerOf("", true));
  Create("bob");
  EXPECT_FALSE(service_->CallerOf("", true));
}

}  // namespace
}  // namespace reprise::services
