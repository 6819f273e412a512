#include "catalog/search.h"

#include <charconv>

namespace reprise::catalog {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

tl::unexpected<Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

// Far past any page a person reads; keeps offset + limit from overflowing.
constexpr int64_t kMaxOffset = int64_t{1} << 40;

}  // namespace

std::vector<std::string> SearchWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto end_word = [&] {
    if (!word.empty() && words.size() < kSearchMaxWords) words.push_back(word);
    word.clear();
  };
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (!IsWordByte(byte)) {
      end_word();
    } else if (byte >= 'A' && byte <= 'Z') {
      word.push_back(static_cast<char>(byte - 'A' + 'a'));
    } else {
      word.push_back(c);
    }
  }
  end_word();
  return words;
}

Result<int64_t> CheckSearchQuery(const SearchQuery& query) {
  if (query.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Invalid("a search needs a query");
  }
  if (query.text.size() > kSearchMaxQueryBytes) {
    return Invalid("a search query holds at most " + std::to_string(kSearchMaxQueryBytes) +
                   " bytes");
  }
  if (query.limit < 1 || query.limit > kSearchMaxLimit) {
    return Invalid("a search limit lies in 1.." + std::to_string(kSearchMaxLimit));
  }
  for (const auto& kind : query.kinds) {
    if (kind.empty()) return Invalid("a search kind cannot be empty");
  }
  if (query.cursor.empty()) return 0;
  int64_t offset = -1;
  const std::string_view digits = std::string_view(query.cursor).substr(1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (query.cursor[0] != 's' || ec != std::errc() || end != digits.data() + digits.size() ||
      offset < 1 || offset > kMaxOffset) {
    return Invalid("not a search cursor: " + query.cursor);
  }
  return offset;
}

Result<void> CheckSearchEntries(const std::vector<SearchEntry>& entries) {
  for (const auto& entry : entries) {
    if (entry.kind.empty()) return Invalid("a search entry needs a kind (\"" + entry.text + "\")");
  }
  return {};
}

SearchPage SearchPageOf(std::vector<SearchHit> hits, int64_t offset, int limit) {
  SearchPage page;
  if (static_cast<int64_t>(hits.size()) > limit) {
    hits.resize(static_cast<size_t>(limit));
    page.next_cursor = "s" + std::to_string(offset + limit);
  }
  page.hits = std::move(hits);
  return page;
}

std::string Fts5MatchExpression(const std::vector<std::string>& words) {
  std::string expression;
  for (const auto& word : words) {
    if (!expression.empty()) expression += ' ';
    // Words hold no ASCII punctuation, so no quote to double; quoted, OR/NOT/NEAR are words.
    expression += '"' + word + '"';
  }
  return expression;
}

}  // namespace reprise::catalog
