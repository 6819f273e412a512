#include "core/ids.h"

namespace reprise {

std::string AssetIdFor(std::string_view owner, const Sha256Digest& content) {
  Sha256 hash;
  hash.Update(owner);
  hash.Update(std::string_view("\0", 1));  // owner names cannot run into the digest
  hash.Update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(content.data()),
                                         content.size()));
  auto digest = hash.Finish();
  return Base32Lower(std::span<const uint8_t>(digest.data(), 8)).substr(0, 12);
}

bool LooksLikeAssetId(std::string_view text) {
  if (text.size() != 12) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

}  // namespace reprise
