// If-None-Match against one entity tag: "*", lists, weak tags and whitespace.
#include "http/conditional.h"

#include <gtest/gtest.h>

namespace reprise::http {
namespace {

TEST(NoneMatchHitsTest, MatchesTheTagInAnyOfItsSpellings) {
  constexpr std::string_view kTag = "\"7-1796645460\"";
  EXPECT_TRUE(NoneMatchHits("\"7-1796645460\"", kTag));
  EXPECT_TRUE(NoneMatchHits("*", kTag));
  EXPECT_TRUE(NoneMatchHits("W/\"7-1796645460\"", kTag));
  EXPECT_TRUE(NoneMatchHits("\"other\",  \"7-1796645460\" ", kTag));
  EXPECT_TRUE(NoneMatchHits("\"other\",\t\"7-1796645460\"", kTag));
}

TEST(NoneMatchHitsTest, AnyOtherTagOrNoHeaderDoesNotMatch) {
  constexpr std::string_view kTag = "\"7-1796645460\"";
  EXPECT_FALSE(NoneMatchHits("", kTag));
  EXPECT_FALSE(NoneMatchHits("\"8-1796645460\"", kTag));
  EXPECT_FALSE(NoneMatchHits("7-1796645460", kTag));  // unquoted: another tag
  EXPECT_FALSE(NoneMatchHits("\"7-1796645460", kTag));
  EXPECT_FALSE(NoneMatchHits(",,", kTag));
  EXPECT_FALSE(NoneMatchHits("\"a\", \"b\"", kTag));
}

}  // namespace
}  // namespace reprise::http
