// Blob key rules and the key layout reprise uses.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/hash.h"

namespace reprise::blob {

// kInvalidArgument naming the problem when `key` is not a safe relative key (see
// blob_store.h): empty, too long, absolute, "..", ".", empty segment, backslash, NUL,
// control characters, non-ASCII bytes, a segment starting with '.' (reserved for the
// stores' own files).
Result<void> ValidateKey(std::string_view key);

// "originals/ab/abcdef…" — content-addressed, shared by every asset with that content.
std::string OriginalKey(const Sha256Digest& digest);
// "assets/{asset}/{stage}/{attempt}/{file}" — one folder per attempt (the derivative
// row id) keeps the current result untouched while a new one is built, and earlier
// results readable for rollback (docs/adr/0001).
std::string DerivativeKey(std::string_view asset_id, std::string_view stage,
                          std::string_view attempt, std::string_view file);

}  // namespace reprise::blob
