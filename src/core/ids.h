// Identifiers. An asset id is derived from (owner, content hash): stable (ingesting the
// same content for the same owner always gives the same id, on any machine) and short
// (12 base32 characters, 60 bits: a collision among a million assets has odds of about
// one in two million).
#pragma once

#include <string>
#include <string_view>

#include "core/hash.h"

namespace reprise {

std::string AssetIdFor(std::string_view owner, const Sha256Digest& content);

// True for strings that look like an asset id (12 chars of [a-z2-7]).
bool LooksLikeAssetId(std::string_view text);

}  // namespace reprise
