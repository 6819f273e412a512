#include "core/ids.h"

#include <set>

#include <gtest/gtest.h>

namespace reprise {
namespace {

TEST(AssetId, StableShortAndScopedByOwner) {
  auto content = Sha256Of("some media bytes");
  std::string id = AssetIdFor("alice", content);
  EXPECT_EQ(id.size(), 12u);
  EXPECT_TRUE(LooksLikeAssetId(id));
  EXPECT_EQ(id, AssetIdFor("alice", content));  // stable
  EXPECT_NE(id, AssetIdFor("bob", content));    // owners never share ids
  EXPECT_NE(id, AssetIdFor("alice", Sha256Of("other")));
}

TEST(AssetId, OwnerBoundaryIsUnambiguous) {
  // "ab" + content must differ from "a" + content even if bytes would run together.
  auto content = Sha256Of("x");
  EXPECT_NE(AssetIdFor("ab", content), AssetIdFor("a", content));
}

TEST(AssetId, NoCollisionsAcrossManyContents) {
  std::set<std::string> ids;
  for (int i = 0; i < 20000; ++i) ids.insert(AssetIdFor("o", Sha256Of(std::to_string(i))));
  EXPECT_EQ(ids.size(), 20000u);
}

TEST(AssetId, LooksLikeAssetIdRejectsOtherText) {
  EXPECT_FALSE(LooksLikeAssetId("short"));
  EXPECT_FALSE(LooksLikeAssetId("ABCDEFGHIJKL"));
  EXPECT_FALSE(LooksLikeAssetId("abcdefghijk1"));  // '1' is not base32
  EXPECT_FALSE(LooksLikeAssetId("../../etc/pa"));
}

}  // namespace
}  // namespace reprise
