// The --where parser on its own: precedence, canonical text, precise errors, limits and
// hostile input. What the expressions select is tested against every backend in
// where_oracle_test.cc.
#include "catalog/where.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/sqlite/sqlite_where.h"

namespace reprise::catalog {
namespace {

std::string Canonical(std::string_view text) {
  auto parsed = ParseWhere(text);
  if (!parsed) return "error: " + parsed.error().message;
  return ToString(**parsed);
}

std::string ErrorOf(std::string_view text) {
  auto parsed = ParseWhere(text);
  if (parsed) return "parsed: " + ToString(**parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

TEST(WhereParser, AndBindsTighterThanOrAndNotTighterThanAnd) {
  auto parsed = ParseWhere("width > 1 or height > 2 and not duration > 3");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const WhereExpr& root = **parsed;
  ASSERT_EQ(root.kind, WhereExpr::Kind::kOr);
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[0]->kind, WhereExpr::Kind::kCompare);
  const WhereExpr& conjunction = *root.children[1];
  ASSERT_EQ(conjunction.kind, WhereExpr::Kind::kAnd);
  EXPECT_EQ(conjunction.children[1]->kind, WhereExpr::Kind::kNot);
  EXPECT_EQ(conjunction.children[1]->children[0]->field, WhereField::kDuration);

  EXPECT_EQ(Canonical("(width > 1 or height > 2) and size < 3"),
            "(width > 1 or height > 2) and size < 3");
  EXPECT_EQ(Canonical("not (width > 1 and height > 2)"), "not (width > 1 and height > 2)");
  EXPECT_EQ(Canonical("not not has(probe)"), "not not has(probe)");
}

TEST(WhereParser, ChainsOfOneOperatorFlattenWhateverTheParentheses) {
  auto parsed = ParseWhere("width = 1 or (height = 2 or (size = 3 or id = \"x\"))");
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)->children.size(), 4u);
  EXPECT_EQ(ToString(**parsed), "width = 1 or height = 2 or size = 3 or id = \"x\"");
  EXPECT_EQ(Canonical("((((has(probe)))))"), "has(probe)");
}

TEST(WhereParser, CanonicalTextIsLowerCaseSingleSpacedAndAFixedPoint) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"DURATION>60   AND\tWidth>=1280", "duration > 60 and width >= 1280"},
      {"codec=\"h264\"", "codec = \"h264\""},
      {"tag = \"dog\"", "tag = \"dog\""},
      {"NOT HAS(transcript)", "not has(transcript)"},
      {"kind IN (\"video\",\"audio\")", "kind in (\"video\", \"audio\")"},
      {"width in (1280,1920, 3840)", "width in (1280, 1920, 3840)"},
      {"duration >= 1.50", "duration >= 1.5"},
      {"duration > 2.0", "duration > 2.0"},
      {"bit_rate < 1e6", "bit_rate < 1000000.0"},
      {"frame_rate = 2.5E-1", "frame_rate = 0.25"},
      {"size > -0.0", "size > 0.0"},
      {"size != -12", "size != -12"},
      {"size > 99999999999999999999", "size > 1e+20"},
      {"has_video = TRUE and has_audio != false", "has_video = true and has_audio != false"},
      {R"(name = "a\"b\\c")", R"(name = "a\"b\\c")"},
      {"name = \"caf\xc3\xa9\"", "name = \"caf\xc3\xa9\""},
      {"name = \"\"", "name = \"\""},
  };
  for (const auto& [text, canonical] : cases) {
    EXPECT_EQ(Canonical(text), canonical) << text;
    EXPECT_EQ(Canonical(canonical), canonical) << canonical;
  }
}

TEST(WhereParser, ValuesKeepTheirTypes) {
  auto parsed = ParseWhere(R"(size in (7, 7.5) or name = "a\"b\\c" or has_video = true)");
  ASSERT_TRUE(parsed);
  const auto& children = (*parsed)->children;
  EXPECT_EQ(std::get<int64_t>(children[0]->values[0]), 7);
  EXPECT_EQ(std::get<double>(children[0]->values[1]), 7.5);
  EXPECT_EQ(std::get<std::string>(children[1]->values[0]), "a\"b\\c");
  EXPECT_EQ(std::get<bool>(children[2]->values[0]), true);
}

TEST(WhereParser, ErrorsNameThePositionWhatWasExpectedAndWhatWasFound) {
  EXPECT_EQ(ErrorOf("duration >"), "where: at 11: expected a value after '>', found end of input");
  EXPECT_EQ(ErrorOf("duration > 60 and"),
            "where: at 18: expected a field, has(STAGE), 'not' or '(', found end of input");
  EXPECT_EQ(ErrorOf("duration 60"),
            "where: at 10: expected an operator (=, !=, <, <=, >, >=, in) after duration, found "
            "number 60");
  EXPECT_EQ(ErrorOf("(width > 1 or height > 2"),
            "where: at 25: expected 'and', 'or' or ')' to close '(' at 1, found end of input");
  EXPECT_EQ(ErrorOf("width > 1 height > 2"),
            "where: at 11: expected 'and', 'or' or end of input, found 'height'");
  EXPECT_EQ(ErrorOf("width in (1, 2"),
            "where: at 15: expected ',' or ')' in the list of values, found end of input");
  EXPECT_EQ(ErrorOf("width in 1"), "where: at 10: expected '(' after 'in', found number 1");
  EXPECT_EQ(ErrorOf("width > 1 )"),
            "where: at 11: expected 'and', 'or' or end of input, found ')'");
  EXPECT_EQ(ErrorOf(""),
            "where: at 1: expected a field, has(STAGE), 'not' or '(', found end of input");
  EXPECT_EQ(ErrorOf("name = \"abc"), "where: at 8: unterminated string");
  EXPECT_EQ(ErrorOf("name = \"a\\nb\""),
            "where: at 10: unknown escape in a string; only \\\" and \\\\ are allowed");
  EXPECT_EQ(ErrorOf("name = \"a\tb\""),
            "where: at 10: control character in a string (write it out, not raw)");
  EXPECT_EQ(ErrorOf("width > 1.x"), "where: at 11: expected a digit after '.' in a number");
  EXPECT_EQ(ErrorOf("width > 60s"), "where: at 11: expected a space or an operator after a number");
  EXPECT_EQ(ErrorOf("width > - 1"), "where: at 10: expected a digit after '-'");
  EXPECT_EQ(ErrorOf("width > 1e999"), "where: at 9: number out of range");
  EXPECT_EQ(ErrorOf("width ! 1"), "where: at 7: unexpected character '!'");
  EXPECT_EQ(ErrorOf("width = \x01"), "where: at 9: unexpected byte 0x01");
}

TEST(WhereParser, TypeErrorsAreParseErrors) {
  EXPECT_EQ(ErrorOf("duration = \"long\""),
            "where: at 12: expected a number for duration (a number field), found string "
            "\"long\"");
  EXPECT_EQ(ErrorOf("codec = 264"),
            "where: at 9: expected a string for codec (a string field), found number 264");
  EXPECT_EQ(ErrorOf("width = true"),
            "where: at 9: expected a number for width (a number field), found 'true'");
  EXPECT_EQ(ErrorOf("has_video = 1"),
            "where: at 13: expected true or false for has_video (a boolean field), found "
            "number 1");
  EXPECT_EQ(ErrorOf("kind < \"video\""),
            "where: at 6: '<' does not apply to kind (a string field); use =, != or in");
  EXPECT_EQ(ErrorOf("has_audio >= true"),
            "where: at 11: '>=' does not apply to has_audio (a boolean field); use = or !=");
  EXPECT_EQ(ErrorOf("has_audio in (true)"),
            "where: at 11: 'in' does not apply to has_audio (a boolean field); use = or !=");
  EXPECT_EQ(ErrorOf("tag != \"dog\""),
            "where: at 5: '!=' does not apply to tag (any of several values); use = or in, and "
            "'not' to negate");
  EXPECT_EQ(ErrorOf("width in (1, \"2\")"),
            "where: at 14: expected a number for width (a number field), found string \"2\"");
  EXPECT_EQ(ErrorOf("kind = \"vidoe\""),
            "where: at 8: unknown asset kind \"vidoe\"; valid values: unknown, video, audio, "
            "image");
  EXPECT_NE(ErrorOf("status in (\"ready\", \"done\")").find("at 21: unknown asset status"),
            std::string::npos);
  EXPECT_NE(ErrorOf("source = \"ftp\"").find("at 10: unknown asset source"), std::string::npos);
}

TEST(WhereParser, OnlyFieldsOfTheTableAndValidStageNames) {
  EXPECT_EQ(ErrorOf("colour = \"red\"").substr(0, 53),
            "where: at 1: unknown field 'colour'; the fields are d");
  EXPECT_EQ(ErrorOf("a.width > 1").substr(0, 31), "where: at 1: unknown field 'a';");
  EXPECT_NE(ErrorOf("duration_seconds > 1").find("unknown field 'duration_seconds'"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("has(Probe)"),
            "where: at 5: expected a stage name ([a-z][a-z0-9_]{0,63}) in has(), found 'Probe'");
  EXPECT_EQ(ErrorOf("has(\"probe\")").substr(0, 57),
            "where: at 5: expected a stage name ([a-z][a-z0-9_]{0,63})");
  EXPECT_EQ(ErrorOf("has probe"), "where: at 5: expected '(' after has, found 'probe'");
  EXPECT_EQ(Canonical("has(" + std::string(64, 's') + ")"), "has(" + std::string(64, 's') + ")");
  EXPECT_NE(ErrorOf("has(" + std::string(65, 's') + ")").find("expected a stage name"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("true"),
            "where: at 1: expected a field, has(STAGE), 'not' or '(', found 'true'");
  for (const auto& field : WhereFields()) {
    EXPECT_EQ(Info(field.field).name, field.name);
  }
}

TEST(WhereParser, InjectionIsAValueOrAnError) {
  auto parsed = ParseWhere(R"(name = "x'; DROP TABLE assets; --")");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ((*parsed)->kind, WhereExpr::Kind::kCompare);
  EXPECT_EQ(std::get<std::string>((*parsed)->values[0]), "x'; DROP TABLE assets; --");
  SqlQuery sql = CompileWhere(**parsed);
  EXPECT_EQ(sql.sql, "(a.original_name = ?)");
  ASSERT_EQ(sql.binds.size(), 1u);
  EXPECT_EQ(std::get<std::string>(sql.binds[0]), "x'; DROP TABLE assets; --");

  EXPECT_EQ(ErrorOf("duration > 1; DROP TABLE assets"), "where: at 13: unexpected character ';'");
  EXPECT_EQ(ErrorOf("duration > 1 -- comment"), "where: at 15: expected a digit after '-'");
  EXPECT_EQ(ErrorOf("name = 'x'"), "where: at 8: unexpected character '''");
  EXPECT_NE(ErrorOf("has(probe') or 1=1 --)").find("at 10: unexpected character '''"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("name = \"x\" /* c */"), "where: at 12: unexpected character '/'");
  EXPECT_EQ(ErrorOf(std::string("name = \"a\0b\"", 12)),
            "where: at 10: control character in a string (write it out, not raw)");
}

TEST(WhereParser, LimitsStopHostileInput) {
  std::string longest = "name = \"" + std::string(kMaxWhereBytes - 9, 'x') + "\"";
  ASSERT_EQ(longest.size(), kMaxWhereBytes);
  EXPECT_TRUE(ParseWhere(longest));
  EXPECT_EQ(ErrorOf(longest + " "),
            "where: the expression is 4097 bytes; at most 4096 are allowed");

  // Within the limit as typed, beyond it once written canonically.
  std::string compact = "size=1e15";
  for (int i = 1; i < 200; ++i) compact += " or size=1e15";
  ASSERT_LT(compact.size(), kMaxWhereBytes);
  EXPECT_NE(ErrorOf(compact).find("bytes once written canonically"), std::string::npos);

  auto nested = [](int depth) {
    return std::string(depth, '(') + "has(probe)" + std::string(depth, ')');
  };
  EXPECT_TRUE(ParseWhere(nested(kMaxWhereDepth)));
  EXPECT_EQ(ErrorOf(nested(kMaxWhereDepth + 1)), "where: at 33: nesting deeper than 32 levels");
  std::string nots;
  for (int i = 0; i < kMaxWhereDepth; ++i) nots += "not ";
  EXPECT_TRUE(ParseWhere(nots + "has(probe)"));
  EXPECT_EQ(ErrorOf("not " + nots + "has(probe)"), "where: at 129: nesting deeper than 32 levels");
  // Depth is nesting, not length: many siblings at one level are fine.
  std::string siblings = "(has(a))";
  for (int i = 1; i < 100; ++i) siblings += " or (has(a))";
  EXPECT_TRUE(ParseWhere(siblings));
  // Two thousand nots fit in the byte limit but not in the depth limit.
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "not ";
  EXPECT_NE(ErrorOf(deep + "has(probe)").find("nesting deeper"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(2000, '(')).find("nesting deeper"), std::string::npos);

  auto terms = [](int count) {
    std::string text = "width = 0";
    for (int i = 1; i < count; ++i) text += " or width = " + std::to_string(i);
    return text;
  };
  EXPECT_TRUE(ParseWhere(terms(kMaxWhereTerms)));
  EXPECT_NE(ErrorOf(terms(kMaxWhereTerms + 1)).find("more than 256 terms"), std::string::npos);
  std::string list = "width in (0";
  for (int i = 1; i < kMaxWhereTerms + 1; ++i) list += "," + std::to_string(i);
  EXPECT_NE(ErrorOf(list + ")").find("more than 256 terms"), std::string::npos);
}

TEST(WhereSql, ColumnsAreCoalescedAndProbeFieldsAreExistsOverTheCurrentResult) {
  // The example of docs/WHERE.md.
  auto parsed = ParseWhere("duration > 60 and codec = \"h264\"");
  ASSERT_TRUE(parsed);
  SqlQuery sql = CompileWhere(**parsed);
  EXPECT_EQ(sql.sql,
            "(COALESCE(a.duration_seconds > ?, 0) AND EXISTS (SELECT 1 FROM derivatives wp,"
            " json_each(wp.metadata, '$.streams') ws WHERE wp.asset_id = a.id AND wp.stage ="
            " 'probe' AND wp.is_current = 1 AND wp.state = 'done' AND json_extract(ws.value,"
            " '$.codec') = ?))");
  auto has = ParseWhere("not has(transcript)");
  ASSERT_TRUE(has);
  EXPECT_EQ(CompileWhere(**has).sql,
            "NOT EXISTS (SELECT 1 FROM derivatives wh WHERE wh.asset_id = a.id AND wh.stage = ?"
            " AND wh.is_current = 1 AND wh.state = 'done')");
}

TEST(WhereSql, EveryValueIsBoundAndTheTextDependsOnlyOnTheShape) {
  auto first = ParseWhere(R"(duration > 60 and (codec in ("h264", "x") or not has(transcript)))");
  auto second = ParseWhere(R"(duration > 1.5 and (codec in ("'", "--") or not has(probe)))");
  ASSERT_TRUE(first && second);
  SqlQuery a = CompileWhere(**first);
  SqlQuery b = CompileWhere(**second);
  EXPECT_EQ(a.sql, b.sql);
  ASSERT_EQ(a.binds.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(a.binds[0]), 60);
  EXPECT_EQ(std::get<std::string>(a.binds[1]), "h264");
  EXPECT_EQ(std::get<std::string>(a.binds[3]), "transcript");
  EXPECT_EQ(std::count(a.sql.begin(), a.sql.end(), '?'), 4);
  EXPECT_EQ(a.sql.find("h264"), std::string::npos);
  EXPECT_EQ(a.sql.find("transcript"), std::string::npos);
}

}  // namespace
}  // namespace reprise::catalog
