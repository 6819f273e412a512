// Blob key rules and the key layout reprise uses.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/hash.h"

namespace reprise::blob {

// kInvalidArgument naming the problem when `key` is not a safe relative key (see
// blob_store.h): empty, too long, absolute, "..", ".", empty segment, backslash, NUL,
// control characters.
Result<void> ValidateKey(std::string_view key);

// "originals/ab/abcdef…" — content-addressed, shared by every asset with that content.
std::string OriginalKey(const Sha256Digest& digest);
// "assets/{asset}/{stage}/{recipe}/{file}" — one folder per recipe keeps the previous
// result readable until the new one is current (history, rollback).
std::string DerivativeKey(std::string_view asset_id, std::string_view stage,
                          std::string_view recipe, std::string_view file);

}  // namespace reprise::blob
