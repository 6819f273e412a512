#include "http/byte_range.h"

#include <limits>
#include <optional>

namespace reprise::http {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool StartsWithBytesUnit(std::string_view text) {
  constexpr std::string_view kUnit = "bytes=";
  if (text.size() < kUnit.size()) return false;
  for (size_t i = 0; i < kUnit.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kUnit[i]) return false;
  }
  return true;
}

// 1*DIGIT, saturating at kMax; nullopt for an empty or non-digit text.
std::optional<uint64_t> Digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  return value;
}

// One range-spec, not yet held against the size. A suffix has no first.
struct Spec {
  std::optional<uint64_t> first;
  std::optional<uint64_t> last;  // absent in "a-" and in a suffix
  uint64_t suffix = 0;
};

std::optional<Spec> ParseSpec(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view left = text.substr(0, dash);
  std::string_view right = text.substr(dash + 1);
  if (left.empty()) {  // "-n"
    auto suffix = Digits(right);
    if (!suffix) return std::nullopt;
    return Spec{std::nullopt, std::nullopt, *suffix};
  }
  auto first = Digits(left);
  if (!first) return std::nullopt;
  if (right.empty()) return Spec{first, std::nullopt, 0};
  auto last = Digits(right);
  if (!last || *last < *first) return std::nullopt;
  return Spec{first, last, 0};
}

RangeRequest Resolve(const Spec& spec, uint64_t size) {
  if (size == 0) return {RangeOutcome::kUnsatisfiable, {}};
  if (!spec.first) {
    if (spec.suffix == 0) return {RangeOutcome::kUnsatisfiable, {}};
    uint64_t length = spec.suffix < size ? spec.suffix : size;
    return {RangeOutcome::kPartial, {size - length, length}};
  }
  uint64_t first = *spec.first;
  if (first >= size) return {RangeOutcome::kUnsatisfiable, {}};
  uint64_t last = spec.last && *spec.last < size ? *spec.last : size - 1;
  return {RangeOutcome::kPartial, {first, last - first + 1}};
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  header = Trim(header);
  if (header.empty()) return {RangeOutcome::kWhole, {}};
  if (!StartsWithBytesUnit(header)) return {RangeOutcome::kMalformed, {}};
  std::string_view list = header.substr(6);
  std::optional<Spec> only;
  size_t count = 0;
  while (true) {
    size_t comma = list.find(',');
    std::string_view element = Trim(list.substr(0, comma));
    if (!element.empty()) {
      auto spec = ParseSpec(element);
      if (!spec) return {RangeOutcome::kMalformed, {}};
      only = spec;
      ++count;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (count == 0) return {RangeOutcome::kMalformed, {}};
  if (count > 1) return {RangeOutcome::kMultiple, {}};
  return Resolve(*only, size);
}

std::string ContentRange(const ByteSpan& span, uint64_t size) {
  return "bytes " + std::to_string(span.first) + "-" +
         std::to_string(span.first + span.length - 1) + "/" + std::to_string(size);
}

std::string UnsatisfiedRange(uint64_t size) { return "bytes */" + std::to_string(size); }

std::string_view RangeOutcomeName(RangeOutcome outcome) {
  switch (outcome) {
    case RangeOutcome::kWhole:
      return "whole";
    case RangeOutcome::kPartial:
      return "partial";
    case RangeOutcome::kUnsatisfiable:
      return "unsatisfiable";
    case RangeOutcome::kMultiple:
      return "multiple";
    case RangeOutcome::kMalformed:
      return "malformed";
  }
  return "malformed";
}

}  // namespace reprise::http
