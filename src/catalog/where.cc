#include "catalog/where.h"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "catalog/types.h"

namespace reprise::catalog {
namespace {

using ExprPtr = std::shared_ptr<const WhereExpr>;

constexpr std::array<WhereFieldInfo, 21> kFields = {{
    {WhereField::kDuration, "duration", WhereType::kNumber},
    {WhereField::kWidth, "width", WhereType::kNumber},
    {WhereField::kHeight, "height", WhereType::kNumber},
    {WhereField::kSize, "size", WhereType::kNumber},
    {WhereField::kKind, "kind", WhereType::kString},
    {WhereField::kContainer, "container", WhereType::kString},
    {WhereField::kStatus, "status", WhereType::kString},
    {WhereField::kSource, "source", WhereType::kString},
    {WhereField::kOwner, "owner", WhereType::kString},
    {WhereField::kName, "name", WhereType::kString},
    {WhereField::kId, "id", WhereType::kString},
    {WhereField::kCodec, "codec", WhereType::kString, true},
    {WhereField::kVideoCodec, "video_codec", WhereType::kString},
    {WhereField::kAudioCodec, "audio_codec", WhereType::kString},
    {WhereField::kSampleRate, "sample_rate", WhereType::kNumber},
    {WhereField::kChannels, "channels", WhereType::kNumber},
    {WhereField::kFrameRate, "frame_rate", WhereType::kNumber},
    {WhereField::kBitRate, "bit_rate", WhereType::kNumber},
    {WhereField::kHasVideo, "has_video", WhereType::kBool},
    {WhereField::kHasAudio, "has_audio", WhereType::kBool},
    {WhereField::kTag, "tag", WhereType::kString, true},
}};

constexpr std::array<std::pair<WhereOp, std::string_view>, 6> kOps = {{
    {WhereOp::kEq, "="},
    {WhereOp::kNe, "!="},
    {WhereOp::kLt, "<"},
    {WhereOp::kLe, "<="},
    {WhereOp::kGt, ">"},
    {WhereOp::kGe, ">="},
}};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordStart(char c) { return (Lower(c) >= 'a' && Lower(c) <= 'z') || c == '_'; }
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }

std::string LowerCase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = Lower(c);
  return lower;
}

std::string Quote(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

std::string FormatValue(const WhereValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    // Shortest text that reads back as the same double; keep it a double on the way back.
    std::string text = fmt::format("{}", *d);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  }
  if (const auto* s = std::get_if<std::string>(&value)) return Quote(*s);
  return std::get<bool>(value) ? "true" : "false";
}

enum class Tok { kEnd, kWord, kNumber, kString, kOpen, kClose, kComma, kOp };

struct Token {
  Tok type = Tok::kEnd;
  size_t pos = 0;         // 1-based byte position
  std::string_view text;  // as written
  std::string word;       // kWord: lower case
  WhereValue value;       // kNumber, kString
  WhereOp op = WhereOp::kEq;
};

std::string Describe(const Token& token) {
  switch (token.type) {
    case Tok::kEnd:
      return "end of input";
    case Tok::kWord:
      return "'" + std::string(token.text) + "'";
    case Tok::kNumber:
      return "number " + std::string(token.text);
    case Tok::kString: {
      std::string text(token.text);
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      return "string " + text;
    }
    default:
      return "'" + std::string(token.text) + "'";
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<ExprPtr> Parse() {
    if (text_.size() > kMaxWhereBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("where: the expression is {} bytes; at most {} are allowed",
                              text_.size(), kMaxWhereBytes));
    }
    Next();
    ExprPtr expr = ParseOr();
    if (expr && token_.type != Tok::kEnd) {
      Expected("'and', 'or' or end of input");
      expr = nullptr;
    }
    // A lexical error leaves an end token behind that may look like a proper ending.
    if (!expr || !error_.empty()) return Fail(ErrorCode::kInvalidArgument, std::move(error_));
    // The canonical text may be longer than the input ("a=1e9" is "a = 1000000000.0");
    // holding it to the limit too keeps every tree printable and parsable again.
    if (size_t canonical = ToString(*expr).size(); canonical > kMaxWhereBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("where: the expression is {} bytes once written canonically "
                              "(spaces around operators, numbers in full); at most {} are "
                              "allowed",
                              canonical, kMaxWhereBytes));
    }
    return expr;
  }

 private:
  // Records the first error at the current token; returns null for convenience.
  std::nullptr_t ErrorAt(size_t pos, std::string_view message) {
    if (error_.empty()) error_ = fmt::format("where: at {}: {}", pos, message);
    return nullptr;
  }
  std::nullptr_t Expected(std::string_view what) {
    return ErrorAt(token_.pos, fmt::format("expected {}, found {}", what, Describe(token_)));
  }

  bool IsWord(std::string_view word) const {
    return token_.type == Tok::kWord && token_.word == word;
  }

  // Moves to the next token; on a lexical error the token becomes kEnd and error_ is set.
  void Next() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
    token_ = Token{};
    token_.pos = at_ + 1;
    if (at_ >= text_.size()) return;
    size_t start = at_;
    char c = text_[at_];
    if (IsWordStart(c)) {
      while (at_ < text_.size() && IsWordChar(text_[at_])) ++at_;
      token_.type = Tok::kWord;
      token_.word = LowerCase(text_.substr(start, at_ - start));
    } else if (IsDigit(c) || c == '-') {
      LexNumber();
    } else if (c == '"') {
      LexString();
    } else if (c == '(' || c == ')' || c == ',') {
      ++at_;
      token_.type = c == '(' ? Tok::kOpen : c == ')' ? Tok::kClose : Tok::kComma;
    } else if (c == '=' || c == '<' || c == '>' ||
               (c == '!' && at_ + 1 < text_.size() && text_[at_ + 1] == '=')) {
      bool equals = at_ + 1 < text_.size() && text_[at_ + 1] == '=';
      at_ += (c != '=' && equals) ? 2 : 1;
      token_.type = Tok::kOp;
      for (const auto& [op, symbol] : kOps) {
        if (symbol == text_.substr(start, at_ - start)) token_.op = op;
      }
    } else {
      token_.type = Tok::kEnd;
      unsigned char byte = static_cast<unsigned char>(c);
      ErrorAt(token_.pos, byte >= 0x20 && byte < 0x7f
                              ? fmt::format("unexpected character '{}'", c)
                              : fmt::format("unexpected byte 0x{:02x}", byte));
      at_ = text_.size();
      return;
    }
    if (token_.type != Tok::kEnd) token_.text = text_.substr(start, at_ - start);
  }

  void LexFail(size_t pos, std::string_view message) {
    token_ = Token{};
    token_.pos = pos;
    ErrorAt(pos, message);
    at_ = text_.size();
  }

  bool Digits() {
    size_t start = at_;
    while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
    return at_ > start;
  }

  void LexNumber() {
    size_t start = at_;
    bool integral = true;
    if (text_[at_] == '-') ++at_;
    if (!Digits()) return LexFail(at_ + 1, "expected a digit after '-'");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      integral = false;
      if (!Digits()) return LexFail(at_ + 1, "expected a digit after '.' in a number");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      integral = false;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!Digits()) return LexFail(at_ + 1, "expected the digits of an exponent");
    }
    if (at_ < text_.size() && IsWordStart(text_[at_])) {
      return LexFail(at_ + 1, "expected a space or an operator after a number");
    }
    const char* begin = text_.data() + start;
    const char* end = text_.data() + at_;
    token_.type = Tok::kNumber;
    if (integral) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(begin, end, value);
      if (ec == std::errc() && ptr == end) {
        token_.value = value;
        return;
      }
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
      return LexFail(start + 1, "number out of range");
    }
    token_.value = value == 0 ? 0.0 : value;  // no negative zero: it would print as "-0.0"
  }

  void LexString() {
    size_t start = at_++;
    std::string value;
    while (true) {
      if (at_ >= text_.size()) return LexFail(start + 1, "unterminated string");
      char c = text_[at_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return LexFail(at_ + 1, "control character in a string (write it out, not raw)");
      }
      if (c == '\\') {
        char next = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
        if (next != '"' && next != '\\') {
          return LexFail(at_ + 1, "unknown escape in a string; only \\\" and \\\\ are allowed");
        }
        c = next;
        ++at_;
      }
      value.push_back(c);
      ++at_;
    }
    ++at_;
    token_.type = Tok::kString;
    token_.value = std::move(value);
  }

  bool Deeper() {
    if (++depth_ > kMaxWhereDepth) {
      ErrorAt(token_.pos, fmt::format("nesting deeper than {} levels", kMaxWhereDepth));
      return false;
    }
    return true;
  }

  bool CountTerm() {
    if (++terms_ > kMaxWhereTerms) {
      ErrorAt(token_.pos, fmt::format("more than {} terms", kMaxWhereTerms));
      return false;
    }
    return true;
  }

  // or := and ('or' and)*; and := not ('and' not)*. Operands of the same kind (from
  // parentheses) are spliced in, so `a or (b or c)` and `a or b or c` are one tree.
  ExprPtr ParseChain(WhereExpr::Kind kind) {
    const bool is_or = kind == WhereExpr::Kind::kOr;
    auto operand = [&] { return is_or ? ParseChain(WhereExpr::Kind::kAnd) : ParseNot(); };
    ExprPtr first = operand();
    if (!first || !IsWord(is_or ? "or" : "and")) return first;
    auto chain = std::make_shared<WhereExpr>();
    chain->kind = kind;
    auto add = [&](ExprPtr child) {
      if (child->kind == kind) {
        chain->children.insert(chain->children.end(), child->children.begin(),
                               child->children.end());
      } else {
        chain->children.push_back(std::move(child));
      }
    };
    add(std::move(first));
    while (IsWord(is_or ? "or" : "and")) {
      Next();
      ExprPtr next = operand();
      if (!next) return nullptr;
      add(std::move(next));
    }
    return chain;
  }
  ExprPtr ParseOr() { return ParseChain(WhereExpr::Kind::kOr); }

  ExprPtr ParseNot() {
    if (!IsWord("not")) return ParsePrimary();
    if (!Deeper()) return nullptr;
    Next();
    ExprPtr operand = ParseNot();
    --depth_;
    if (!operand) return nullptr;
    auto negation = std::make_shared<WhereExpr>();
    negation->kind = WhereExpr::Kind::kNot;
    negation->children.push_back(std::move(operand));
    return negation;
  }

  ExprPtr ParsePrimary() {
    if (token_.type == Tok::kOpen) {
      size_t open = token_.pos;
      if (!Deeper()) return nullptr;
      Next();
      ExprPtr inner = ParseOr();
      if (!inner) return nullptr;
      if (token_.type != Tok::kClose) {
        return Expected(fmt::format("'and', 'or' or ')' to close '(' at {}", open));
      }
      --depth_;
      Next();
      return inner;
    }
    if (IsWord("has")) return ParseHas();
    if (token_.type != Tok::kWord || IsWord("and") || IsWord("or") || IsWord("in") ||
        IsWord("true") || IsWord("false")) {
      return Expected("a field, has(STAGE), 'not' or '('");
    }
    const WhereFieldInfo* info = nullptr;
    for (const auto& candidate : kFields) {
      if (candidate.name == token_.word) info = &candidate;
    }
    if (info == nullptr) {
      std::string names;
      for (const auto& candidate : kFields) {
        names += names.empty() ? "" : ", ";
        names += candidate.name;
      }
      return ErrorAt(token_.pos,
                     fmt::format("unknown field {}; the fields are {}", Describe(token_), names));
    }
    if (!CountTerm()) return nullptr;
    Next();
    if (IsWord("in")) return ParseIn(*info);
    if (token_.type != Tok::kOp) {
      return Expected(fmt::format("an operator (=, !=, <, <=, >, >=, in) after {}", info->name));
    }
    WhereOp op = token_.op;
    bool ordered = op != WhereOp::kEq && op != WhereOp::kNe;
    if (info->many && op != WhereOp::kEq) {
      return ErrorAt(token_.pos, fmt::format("'{}' does not apply to {} (any of several values); "
                                             "use = or in, and 'not' to negate",
                                             Symbol(op), info->name));
    }
    if (ordered && info->type != WhereType::kNumber) {
      return ErrorAt(token_.pos,
                     fmt::format("'{}' does not apply to {} (a {} field); use {}", Symbol(op),
                                 info->name, info->type == WhereType::kBool ? "boolean" : "string",
                                 info->type == WhereType::kBool ? "= or !=" : "=, != or in"));
    }
    std::string after = fmt::format("after '{}'", Symbol(op));
    Next();
    auto compare = std::make_shared<WhereExpr>();
    compare->kind = WhereExpr::Kind::kCompare;
    compare->field = info->field;
    compare->op = op;
    if (!ParseValue(*info, after, compare->values)) return nullptr;
    return compare;
  }

  ExprPtr ParseIn(const WhereFieldInfo& info) {
    if (info.type == WhereType::kBool) {
      return ErrorAt(token_.pos, fmt::format("'in' does not apply to {} (a boolean field); use = "
                                             "or !=",
                                             info.name));
    }
    Next();
    if (token_.type != Tok::kOpen) return Expected("'(' after 'in'");
    Next();
    auto in = std::make_shared<WhereExpr>();
    in->kind = WhereExpr::Kind::kIn;
    in->field = info.field;
    if (!ParseValue(info, "in the list", in->values)) return nullptr;
    while (token_.type == Tok::kComma) {
      if (!CountTerm()) return nullptr;
      Next();
      if (!ParseValue(info, "after ','", in->values)) return nullptr;
    }
    if (token_.type != Tok::kClose) return Expected("',' or ')' in the list of values");
    Next();
    return in;
  }

  // A literal of the field's type; kind, status and source must name a known value.
  bool ParseValue(const WhereFieldInfo& info, std::string_view where,
                  std::vector<WhereValue>& values) {
    bool is_bool = IsWord("true") || IsWord("false");
    bool fits = (info.type == WhereType::kNumber && token_.type == Tok::kNumber) ||
                (info.type == WhereType::kString && token_.type == Tok::kString) ||
                (info.type == WhereType::kBool && is_bool);
    if (!fits) {
      if (token_.type == Tok::kNumber || token_.type == Tok::kString || is_bool) {
        std::string_view type = info.type == WhereType::kNumber   ? "a number"
                                : info.type == WhereType::kString ? "a string"
                                                                  : "true or false";
        Expected(fmt::format("{} for {} (a {} field)", type, info.name,
                             info.type == WhereType::kNumber   ? "number"
                             : info.type == WhereType::kString ? "string"
                                                               : "boolean"));
      } else {
        Expected(fmt::format("a value {}", where));
      }
      return false;
    }
    WhereValue value = is_bool ? WhereValue(token_.word == "true") : token_.value;
    if (const auto* text = std::get_if<std::string>(&value)) {
      if (auto unknown = UnknownValue(info.field, *text)) {
        ErrorAt(token_.pos, unknown->message);
        return false;
      }
    }
    values.push_back(std::move(value));
    Next();
    return true;
  }

  // The error for a value that kind, status or source never has.
  static std::optional<Error> UnknownValue(WhereField field, const std::string& text) {
    std::optional<Error> error;
    auto check = [&error](const auto& parsed) {
      if (!parsed) error = parsed.error();
    };
    if (field == WhereField::kKind) check(ParseAssetKind(text));
    if (field == WhereField::kStatus) check(ParseAssetStatus(text));
    if (field == WhereField::kSource) check(ParseAssetSource(text));
    return error;
  }

  ExprPtr ParseHas() {
    if (!CountTerm()) return nullptr;
    Next();
    if (token_.type != Tok::kOpen) return Expected("'(' after has");
    Next();
    if (token_.type != Tok::kWord || !IsWhereStageName(token_.text)) {
      return Expected("a stage name ([a-z][a-z0-9_]{0,63}) in has()");
    }
    auto has = std::make_shared<WhereExpr>();
    has->kind = WhereExpr::Kind::kHas;
    has->stage = std::string(token_.text);
    Next();
    if (token_.type != Tok::kClose) return Expected("')' after the stage name");
    Next();
    return has;
  }

  std::string_view text_;
  size_t at_ = 0;
  Token token_;
  int depth_ = 0;
  int terms_ = 0;
  std::string error_;
};

void Print(const WhereExpr& expr, std::string& out) {
  auto child = [&out](const WhereExpr& operand, bool parenthesise) {
    if (parenthesise) out += '(';
    Print(operand, out);
    if (parenthesise) out += ')';
  };
  switch (expr.kind) {
    case WhereExpr::Kind::kOr:
    case WhereExpr::Kind::kAnd: {
      bool is_or = expr.kind == WhereExpr::Kind::kOr;
      for (size_t i = 0; i < expr.children.size(); ++i) {
        if (i > 0) out += is_or ? " or " : " and ";
        const WhereExpr& operand = *expr.children[i];
        // `and` binds tighter than `or`.
        child(operand, operand.kind == WhereExpr::Kind::kOr && !is_or);
      }
      return;
    }
    case WhereExpr::Kind::kNot: {
      out += "not ";
      const WhereExpr& operand = *expr.children.front();
      child(operand, operand.kind == WhereExpr::Kind::kOr || operand.kind == WhereExpr::Kind::kAnd);
      return;
    }
    case WhereExpr::Kind::kCompare:
      out += Info(expr.field).name;
      out += ' ';
      out += Symbol(expr.op);
      out += ' ';
      out += FormatValue(expr.values.front());
      return;
    case WhereExpr::Kind::kIn:
      out += Info(expr.field).name;
      out += " in (";
      for (size_t i = 0; i < expr.values.size(); ++i) {
        if (i > 0) out += ", ";
        out += FormatValue(expr.values[i]);
      }
      out += ')';
      return;
    case WhereExpr::Kind::kHas:
      out += "has(" + expr.stage + ")";
      return;
  }
}

}  // namespace

std::span<const WhereFieldInfo> WhereFields() { return kFields; }

const WhereFieldInfo& Info(WhereField field) { return kFields[static_cast<size_t>(field)]; }

std::string_view Symbol(WhereOp op) { return kOps[static_cast<size_t>(op)].second; }

bool IsWhereStageName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '_')) return false;
  }
  return true;
}

Result<std::shared_ptr<const WhereExpr>> ParseWhere(std::string_view text) {
  return Parser(text).Parse();
}

std::string ToString(const WhereExpr& expr) {
  std::string out;
  Print(expr, out);
  return out;
}

}  // namespace reprise::catalog
