// TokensService: the bearer tokens of `reprise serve` — minting, listing, revoking, and
// deciding who a request is.
//
// A token is "rpt_" followed by 32 random bytes (core/crypto RandomBytes) in unpadded
// base64url, 47 characters. Create() returns it once; the catalog stores only its
// SHA-256 (hex). A plain hash is enough: 256 random bits cannot be guessed, so no slow
// password hash is needed, and lookups by hash do not leak the token through timing
// (an attacker cannot steer the hash). The row found is still compared with the
// computed hash in constant time.
//
// Authenticate() is meant for every request (about 10,000 a second on 2 cores): a token
// that is not shaped like one is refused without touching the catalog; a known token is
// remembered in a small in-process cache keyed by its hash for Options::cache_micros
// (5 s), so a revocation made elsewhere (`reprise tokens revoke` in another process)
// takes effect on a running server within that time, and for every request that starts
// after Revoke() returns when made through this object. A newly created token works at once
// (unknown hashes are never cached). Last use is written to the catalog at most once per
// Options::touch_every_micros (60 s) per token and server, never once per request; a failed write
// is logged, not fatal.
//
// Open mode: a server on loopback with no active token treats a request without a token
// as an admin (CallerOf). Whether any token is active is read from the catalog and kept
// for cache_micros too, so a token created while the server runs closes it within 5 s,
// without a restart.
//
// Create/List/Revoke need an admin caller (kPermissionDenied otherwise); unknown or
// revoked tokens are kNotFound; catalog errors (kUnavailable, kIo) pass through.
// Thread-safe. The catalog and clock must outlive the service.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "services/caller.h"

namespace reprise::services {

struct CreatedToken {
  catalog::ApiToken record;
  std::string token;  // the secret, shown once
};

// The view `tokens list --json` prints (never the token or its hash): id, name, owner,
// admin, state ("active"|"revoked"), created_at, last_used_at and revoked_at (RFC 3339
// or null).
nlohmann::json TokenJson(const catalog::ApiToken& token);

class TokensService final {
 public:
  static constexpr std::string_view kPrefix = "rpt_";

  struct Options {
    int64_t cache_micros = 5'000'000;         // how long a revocation elsewhere may lag
    int64_t touch_every_micros = 60'000'000;  // last_used_at written at most this often
    size_t max_cached = 10'000;               // tokens remembered at once
  };

  TokensService(catalog::Catalog& catalog, const Clock& clock, Logger log)
      : TokensService(catalog, clock, std::move(log), Options{}) {}
  TokensService(catalog::Catalog& catalog, const Clock& clock, Logger log, Options options);
  TokensService(const TokensService&) = delete;
  TokensService& operator=(const TokensService&) = delete;

  // Mints a token for `owner` (may be empty for an admin token) named `name` (default:
  // the owner, or "admin"). kInvalidArgument for a non-admin token without an owner, or
  // an owner or name that is over 200 characters or holds control characters.
  [[nodiscard]] Result<CreatedToken> Create(const Caller& caller, const std::string& owner,
                                            bool admin, const std::string& name);
  // Every token, revoked ones included, oldest first.
  [[nodiscard]] Result<std::vector<catalog::ApiToken>> List(const Caller& caller);
  // Revokes token `id` (a second revoke changes nothing); kNotFound for an unknown id.
  [[nodiscard]] Result<catalog::ApiToken> Revoke(const Caller& caller, int64_t id);

  // The caller `token` stands for: an admin caller for an admin token, else its owner's;
  // token_name is the token's name. kNotFound when unknown, revoked or malformed.
  [[nodiscard]] Result<Caller> Authenticate(std::string_view token);
  // True when the catalog holds an active token (as of at most cache_micros ago).
  [[nodiscard]] Result<bool> AnyActive();
  // The caller of a request carrying `token` (empty: none). With a token, Authenticate.
  // Without: an admin named "open" when `open_allowed` (the server listens on loopback
  // only) and no token is active; otherwise kNotFound.
  [[nodiscard]] Result<Caller> CallerOf(std::string_view token, bool open_allowed);

 private:
  struct Entry {
    int64_t id = 0;
    Caller caller;
    bool revoked = false;
    int64_t expires = 0;     // monotonic micros
    int64_t last_touch = 0;  // wall micros of the last use recorded in the catalog
  };

  // Remembers `entry` under `key`, making room when the cache is full. Needs mu_.
  void Remember(const std::string& key, Entry entry);
  // True (and the entry marked as recorded at `now`) when this use should be written to
  // the catalog: the last record is older than touch_every_micros. Needs mu_ for a
  // cached entry.
  bool TouchDue(Entry& entry, int64_t now);
  void Forget(int64_t id);

  catalog::Catalog& catalog_;
  const Clock& clock_;
  Logger log_;
  const Options options_;

  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // key: the raw SHA-256 of the token
  bool any_active_ = false;
  int64_t any_active_expires_ = 0;  // monotonic; 0: not known
  // Bumped by every Create and Revoke here: an answer read from the catalog before one of
  // them is returned but not remembered, so a concurrent request cannot cache a token
  // this object just revoked.
  uint64_t generation_ = 0;
};

}  // namespace reprise::services
