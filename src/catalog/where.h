// The `--where` selection language: a small boolean expression over an asset's columns,
// its probe metadata, its tags and which stages it has, e.g.
//
//   duration > 60 and width >= 1280 and not has(transcript)
//   codec in ("h264", "hevc") or tag = "dog"
//
// ParseWhere() turns text (from a user, untrusted) into an immutable tree; each backend
// compiles the tree into its own query with every value bound as a parameter (see
// catalog/sqlite/sqlite_where.h), so no text of the expression is ever pasted into SQL.
// The grammar, the fields and the rules for missing values are in docs/WHERE.md.
//
// Parsing is bounded so hostile input cannot exhaust the stack or the database: at most
// kMaxWhereBytes of text (as given and in canonical form), kMaxWhereDepth nested
// parentheses and `not`s, and kMaxWhereTerms terms (comparisons, has() and values of
// `in` lists). Type errors (a number field
// compared with a string, `<` on a string field, an unknown kind) are parse errors.
//
// Errors: kInvalidArgument, with a message "where: at N: expected ..., found ..." where N
// is the 1-based byte position of the offending token (the text's length + 1 for its
// end). Thread-safety: the functions are pure; a parsed tree may be shared across
// threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace reprise::catalog {

inline constexpr size_t kMaxWhereBytes = 4096;
inline constexpr int kMaxWhereDepth = 32;
inline constexpr int kMaxWhereTerms = 256;

// Every field the language knows; where each comes from is in docs/WHERE.md.
enum class WhereField {
  // Columns of the asset.
  kDuration,
  kWidth,
  kHeight,
  kSize,
  kKind,
  kContainer,
  kStatus,
  kSource,
  kOwner,
  kName,
  kId,
  // From the metadata of the asset's current probe result.
  kCodec,
  kVideoCodec,
  kAudioCodec,
  kSampleRate,
  kChannels,
  kFrameRate,
  kBitRate,
  kHasVideo,
  kHasAudio,
  // The search entries of kind "tag" of the asset's current results (catalog/search.h).
  kTag,
};

enum class WhereType { kNumber, kString, kBool };

struct WhereFieldInfo {
  WhereField field;
  std::string_view name;  // as written in expressions (lower case)
  WhereType type;
  // True for a field with several values per asset (any stream's codec, the tags):
  // `=` and `in` mean "one of them is", and no other operator applies.
  bool many = false;
};

// The fixed table of fields, in the order of the enum.
std::span<const WhereFieldInfo> WhereFields();
const WhereFieldInfo& Info(WhereField field);

enum class WhereOp { kEq, kNe, kLt, kLe, kGt, kGe };
std::string_view Symbol(WhereOp op);  // "=", "!=", "<", ...

// A literal: integers stay integers, other numbers are doubles.
using WhereValue = std::variant<int64_t, double, std::string, bool>;

// One node of a parsed expression. Built by ParseWhere(), which guarantees what the
// comments below say; shared, never modified.
struct WhereExpr {
  enum class Kind {
    kOr,       // children: two or more, none of them kOr
    kAnd,      // children: two or more, none of them kAnd
    kNot,      // children: one
    kCompare,  // field op values[0], of the field's type
    kIn,       // field in (values...), one or more values of the field's type
    kHas,      // the asset has a current successful result of `stage`
  };
  Kind kind = Kind::kCompare;
  std::vector<std::shared_ptr<const WhereExpr>> children;
  WhereField field = WhereField::kId;
  WhereOp op = WhereOp::kEq;
  std::vector<WhereValue> values;
  std::string stage;  // kHas: matches [a-z][a-z0-9_]{0,63}
};

[[nodiscard]] Result<std::shared_ptr<const WhereExpr>> ParseWhere(std::string_view text);

// The canonical text of an expression: lower-case keywords and fields, single spaces,
// parentheses only where needed, numbers in their shortest exact form. ParseWhere() of
// it yields the same tree, so ToString() is a fixed point.
std::string ToString(const WhereExpr& expr);

// True when `name` is a valid stage name for has(): [a-z][a-z0-9_]{0,63}.
bool IsWhereStageName(std::string_view name);

}  // namespace reprise::catalog
