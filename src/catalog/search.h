// Full-text search over what stages found (catalog::SearchEntry: transcript segments,
// scene descriptions, tags, summaries) and asset names: the records of
// Catalog::Search and the query rules both backends share, so the same data gives the
// same hits on SQLite (FTS5) and PostgreSQL (tsvector).
//
// Words: a query and the indexed text are both cut into words at every ASCII character
// that is not a letter or a digit; bytes of UTF-8 sequences belong to words. Matching
// ignores case, keeps diacritics ("café" is not "cafe") and does not stem ("dogs" is not
// "dog"). Every word of the query must occur in an entry (AND), in any order. The query is
// never parsed as FTS5 or tsquery syntax: operators such as OR, NEAR, `"` or `*` are
// plain characters, so no input can make a search fail with a syntax error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

inline constexpr int kSearchDefaultLimit = 20;
inline constexpr int kSearchMaxLimit = 100;
inline constexpr size_t kSearchMaxQueryBytes = 1000;
inline constexpr size_t kSearchMaxWords = 32;

struct SearchQuery {
  std::string text;                 // what the user typed
  std::vector<std::string> kinds;   // only entries of these kinds; empty: any
  int limit = kSearchDefaultLimit;  // 1..kSearchMaxLimit
  std::string cursor;               // empty, or a next_cursor from the previous page
};

struct SearchHit {
  std::string asset_id;
  std::string asset_name;
  std::string stage;  // "" for kind "name"
  std::string kind;
  std::string text;   // the whole entry that matched
  double start = -1;  // seconds; -1 when not timed
  double end = -1;
  int scene = -1;
  double rank = 0;  // higher is more relevant; comparable within one answer only
};

struct SearchPage {
  std::vector<SearchHit> hits;  // most relevant first, then by asset and time
  std::string next_cursor;      // empty when there is no more
};

// The query's words (see above), lower-cased ASCII; at most kSearchMaxWords.
std::vector<std::string> SearchWords(std::string_view text);

// Checks limit, cursor and text: kInvalidArgument for an empty or blank query, one longer
// than kSearchMaxQueryBytes, a limit outside 1..kSearchMaxLimit, an empty kind or a cursor
// this API did not give. Returns the offset the cursor stands for.
[[nodiscard]] Result<int64_t> CheckSearchQuery(const SearchQuery& query);
// The page of `hits` read from `offset` with one row more than query.limit asked for
// (whether another page follows): trimmed to the limit, with the cursor of what follows.
SearchPage SearchPageOf(std::vector<SearchHit> hits, int64_t offset, int limit);

// kInvalidArgument for an entry of a derivative without a kind.
[[nodiscard]] Result<void> CheckSearchEntries(const std::vector<SearchEntry>& entries);

// The FTS5 MATCH expression: each word as a quoted phrase, ANDed ("" when none).
std::string Fts5MatchExpression(const std::vector<std::string>& words);

}  // namespace reprise::catalog
