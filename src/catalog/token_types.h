// Plain records of API tokens as the catalog stores them. The catalog never sees a
// token itself, only the lower-case hex SHA-256 of it; minting tokens, hashing them and
// deciding who a token is live in services/tokens_service.h.
#pragma once

#include <cstdint>
#include <string>

namespace reprise::catalog {

struct NewApiToken {
  std::string name;
  std::string owner;       // may be empty for an admin token
  bool admin = false;      // sees every owner
  std::string sha256_hex;  // of the token: 64 lower-case hex digits
};

struct ApiToken {
  int64_t id = 0;
  std::string name;
  std::string owner;
  bool admin = false;
  std::string sha256_hex;
  int64_t created_at = 0;
  int64_t last_used_at = 0;  // 0: never used (as far as recorded)
  int64_t revoked_at = 0;    // 0: active

  [[nodiscard]] bool active() const { return revoked_at == 0; }
};

}  // namespace reprise::catalog
