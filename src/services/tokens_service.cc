#include "services/tokens_service.h"

#include <algorithm>
#include <span>
#include <utility>

#include "core/crypto.h"
#include "core/hash.h"

namespace reprise::services {
namespace {

constexpr size_t kRandomBytes = 32;
constexpr size_t kEncodedBytes = 43;  // 32 bytes in unpadded base64url
constexpr size_t kMaxLabel = 200;

bool ShapedLikeToken(std::string_view token) {
  if (token.size() != TokensService::kPrefix.size() + kEncodedBytes) return false;
  if (!token.starts_with(TokensService::kPrefix)) return false;
  return std::all_of(token.begin() + TokensService::kPrefix.size(), token.end(), IsBase64UrlChar);
}

Result<void> CheckLabel(const std::string& value, const char* what) {
  if (value.size() > kMaxLabel) {
    return Fail(ErrorCode::kInvalidArgument, std::string("a token's ") + what + " has " +
                                                 std::to_string(value.size()) +
                                                 " characters; at most 200 are allowed");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("a token's ") + what + " must not hold control characters");
    }
  }
  return {};
}

Result<void> NeedAdmin(const Caller& caller, const char* what) {
  if (caller.admin) return {};
  return Fail(ErrorCode::kPermissionDenied, std::string(what) + " needs an admin caller");
}

Caller CallerFor(const catalog::ApiToken& token) {
  return token.admin ? Caller::Admin(token.name) : Caller::Owner(token.owner, token.name);
}

nlohmann::json TimeOrNull(int64_t micros) {
  return micros > 0 ? nlohmann::json(FormatRfc3339(micros)) : nlohmann::json(nullptr);
}

Error Unknown() { return Error{ErrorCode::kNotFound, "the API token is unknown or revoked", ""}; }

}  // namespace

nlohmann::json TokenJson(const catalog::ApiToken& token) {
  return {{"id", token.id},
          {"name", token.name},
          {"owner", token.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(token.owner)},
          {"admin", token.admin},
          {"state", token.active() ? "active" : "revoked"},
          {"created_at", TimeOrNull(token.created_at)},
          {"last_used_at", TimeOrNull(token.last_used_at)},
          {"revoked_at", TimeOrNull(token.revoked_at)}};
}

TokensService::TokensService(catalog::Catalog& catalog, const Clock& clock, Logger log,
                             Options options)
    : catalog_(catalog), clock_(clock), log_(std::move(log)), options_(options) {}

Result<CreatedToken> TokensService::Create(const Caller& caller, const std::string& owner,
                                           bool admin, const std::string& name) {
  REPRISE_TRY(NeedAdmin(caller, "creating an API token"));
  if (!admin && owner.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a token needs an owner (--owner ID), unless it is an admin token (--admin)");
  }
  REPRISE_TRY(CheckLabel(owner, "owner"));
  REPRISE_TRY(CheckLabel(name, "name"));
  auto bytes = RandomBytes(kRandomBytes);
  if (!bytes) return Fail(bytes.error());
  std::string token = std::string(kPrefix) + Base64UrlEncode(*bytes);

  catalog::NewApiToken row;
  row.name = !name.empty() ? name : (!owner.empty() ? owner : "admin");
  row.owner = owner;
  row.admin = admin;
  row.sha256_hex = HexLower(Sha256Of(token));
  auto record = catalog_.InsertApiToken(row);
  if (!record) return Fail(record.error());
  {
    std::lock_guard lock(mu_);
    ++generation_;  // a count read before this insert must not be kept
    any_active_ = true;
    any_active_expires_ = clock_.MonotonicMicros() + options_.cache_micros;
  }
  return CreatedToken{std::move(*record), std::move(token)};
}

Result<std::vector<catalog::ApiToken>> TokensService::List(const Caller& caller) {
  REPRISE_TRY(NeedAdmin(caller, "listing API tokens"));
  return catalog_.ListApiTokens();
}

Result<catalog::ApiToken> TokensService::Revoke(const Caller& caller, int64_t id) {
  REPRISE_TRY(NeedAdmin(caller, "revoking an API token"));
  auto revoked = catalog_.RevokeApiToken(id);
  if (!revoked) return Fail(revoked.error());
  Forget(id);
  return revoked;
}

void TokensService::Forget(int64_t id) {
  std::lock_guard lock(mu_);
  ++generation_;  // a row read before the revocation must not be kept
  std::erase_if(cache_, [id](const auto& item) { return item.second.id == id; });
  any_active_expires_ = 0;  // this may have been the last active token
}

void TokensService::Remember(const std::string& key, Entry entry) {
  if (cache_.size() >= options_.max_cached) {
    const int64_t now = clock_.MonotonicMicros();
    std::erase_if(cache_, [now](const auto& item) { return item.second.expires <= now; });
    // Still full of live entries (a flood of distinct valid tokens): start over; the
    // tokens still in use come back with one catalog read each.
    if (cache_.size() >= options_.max_cached) cache_.clear();
  }
  cache_[key] = std::move(entry);
}

bool TokensService::TouchDue(Entry& entry, int64_t now) {
  if (entry.revoked || now - entry.last_touch < options_.touch_every_micros) return false;
  entry.last_touch = now;  // claimed by this request; concurrent ones skip
  return true;
}

Result<Caller> TokensService::Authenticate(std::string_view token) {
  if (!ShapedLikeToken(token)) return Fail(Unknown());
  const Sha256Digest digest = Sha256Of(token);
  const std::string key(digest.begin(), digest.end());
  const int64_t now = clock_.NowMicros();
  Entry entry;
  bool due = false;
  bool cached = false;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > clock_.MonotonicMicros()) {
      cached = true;
      due = TouchDue(it->second, now);
      entry = it->second;
    }
  }
  if (!cached) {
    const std::string hex = HexLower(digest);
    auto row = catalog_.FindApiToken(hex);
    if (!row && row.error().code == ErrorCode::kNotFound) return Fail(Unknown());
    if (!row) return Fail(row.error().Wrap("checking an API token"));
    // The lookup was by hash; compare what came back anyway, in constant time.
    const std::span<const uint8_t> stored(reinterpret_cast<const uint8_t*>(row->sha256_hex.data()),
                                          row->sha256_hex.size());
    const std::span<const uint8_t> computed(reinterpret_cast<const uint8_t*>(hex.data()),
                                            hex.size());
    if (!ConstantTimeEqual(stored, computed)) return Fail(Unknown());
    entry.id = row->id;
    entry.caller = CallerFor(*row);
    entry.revoked = !row->active();
    entry.expires = clock_.MonotonicMicros() + options_.cache_micros;
    entry.last_touch = row->last_used_at;
    due = TouchDue(entry, now);
    std::lock_guard lock(mu_);
    if (generation == generation_) Remember(key, entry);
  }
  if (entry.revoked) return Fail(Unknown());
  if (due) {
    if (auto touched = catalog_.TouchApiToken(entry.id, now); !touched) {
      log_->warn("cannot record the use of API token {}: {}", entry.id, touched.error().ToString());
    }
  }
  return entry.caller;
}

Result<bool> TokensService::AnyActive() {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    if (any_active_expires_ > clock_.MonotonicMicros()) return any_active_;
    generation = generation_;
  }
  auto count = catalog_.CountActiveApiTokens();
  if (!count) return Fail(count.error().Wrap("counting API tokens"));
  std::lock_guard lock(mu_);
  if (generation == generation_) {
    any_active_ = *count > 0;
    any_active_expires_ = clock_.MonotonicMicros() + options_.cache_micros;
  }
  return *count > 0;
}

Result<Caller> TokensService::CallerOf(std::string_view token, bool open_allowed) {
  if (!token.empty()) return Authenticate(token);
  if (open_allowed) {
    auto any = AnyActive();
    if (!any) return Fail(any.error());
    if (!*any) return Caller::Admin("open");
  }
  return Fail(ErrorCode::kNotFound, "no bearer token");
}

}  // namespace reprise::services
