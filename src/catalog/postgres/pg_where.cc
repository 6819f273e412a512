#include "catalog/postgres/pg_where.h"

#include <string>
#include <string_view>

namespace reprise::catalog {
namespace {

enum class Scope { kColumn, kNullableColumn, kProbe, kProbeStream, kTag };

// The JSON array at `key` of `json` (a jsonb expression), or an empty array when it is
// missing or not an array (SQLite's json_each then yields nothing either).
std::string ArrayAt(const std::string& json, std::string_view key) {
  const std::string value = "(" + json + " -> '" + std::string(key) + "')";
  return "(CASE WHEN jsonb_typeof(" + value + ") = 'array' THEN " + value +
         " ELSE '[]'::jsonb END)";
}

// A JSON value as an SQL value of the field's type; NULL when it has another type.
std::string Typed(const std::string& json, WhereType type) {
  switch (type) {
    case WhereType::kNumber:
      return "(CASE WHEN jsonb_typeof(" + json + ") = 'number' THEN (" + json +
             " #>> '{}')::double precision END)";
    case WhereType::kString:
      return "(CASE WHEN jsonb_typeof(" + json + ") = 'string' THEN " + json + " #>> '{}' END)";
    case WhereType::kBool:
      return "(CASE WHEN jsonb_typeof(" + json + ") = 'boolean' THEN (" + json +
             " #>> '{}')::boolean END)";
  }
  return "NULL";
}

std::string IsCoverArt(std::string_view element) {
  const std::string e(element);
  return "COALESCE(" + e + " -> 'attached_picture' IN ('true'::jsonb, '1'::jsonb), false)";
}

// `key` of the first stream of `type` in the probe metadata (wp); a video stream that is
// an attached picture does not count.
std::string FirstStream(std::string_view type, std::string_view key, WhereType value_type) {
  std::string sql = "(SELECT " + Typed("fs.value -> '" + std::string(key) + "'", value_type) +
                    " FROM jsonb_array_elements(" + ArrayAt("wp.metadata::jsonb", "streams") +
                    ") WITH ORDINALITY fs(value, n) WHERE fs.value ->> 'type' = '" +
                    std::string(type) + "'";
  if (type == "video") sql += " AND NOT " + IsCoverArt("fs.value");
  return sql + " ORDER BY fs.n LIMIT 1)";
}

std::string AnyStream(std::string_view type) {
  std::string sql = "EXISTS (SELECT 1 FROM jsonb_array_elements(" +
                    ArrayAt("wp.metadata::jsonb", "streams") +
                    ") ss(value) WHERE ss.value ->> 'type' = '" + std::string(type) + "'";
  if (type == "video") sql += " AND NOT " + IsCoverArt("ss.value");
  return sql + ")";
}

struct FieldSql {
  Scope scope;
  std::string value;
};

FieldSql Sql(WhereField field) {
  switch (field) {
    case WhereField::kDuration:
      return {Scope::kNullableColumn, "a.duration_seconds"};
    case WhereField::kWidth:
      return {Scope::kNullableColumn, "a.width"};
    case WhereField::kHeight:
      return {Scope::kNullableColumn, "a.height"};
    case WhereField::kSize:
      return {Scope::kColumn, "a.size_bytes"};
    case WhereField::kKind:
      return {Scope::kColumn, "a.kind"};
    case WhereField::kContainer:
      return {Scope::kColumn, "a.container"};
    case WhereField::kStatus:
      return {Scope::kColumn, "a.status"};
    case WhereField::kSource:
      return {Scope::kColumn, "a.source"};
    case WhereField::kOwner:
      return {Scope::kColumn, "a.owner"};
    case WhereField::kName:
      return {Scope::kColumn, "a.original_name"};
    case WhereField::kId:
      return {Scope::kColumn, "a.id"};
    case WhereField::kCodec:
      return {Scope::kProbeStream, Typed("ws.value -> 'codec'", WhereType::kString)};
    case WhereField::kVideoCodec:
      return {Scope::kProbe, FirstStream("video", "codec", WhereType::kString)};
    case WhereField::kAudioCodec:
      return {Scope::kProbe, FirstStream("audio", "codec", WhereType::kString)};
    case WhereField::kSampleRate:
      return {Scope::kProbe, FirstStream("audio", "sample_rate", WhereType::kNumber)};
    case WhereField::kChannels:
      return {Scope::kProbe, FirstStream("audio", "channels", WhereType::kNumber)};
    case WhereField::kFrameRate:
      return {Scope::kProbe, FirstStream("video", "frame_rate", WhereType::kNumber)};
    case WhereField::kBitRate:
      return {Scope::kProbe, Typed("(wp.metadata::jsonb -> 'bit_rate')", WhereType::kNumber)};
    case WhereField::kHasVideo:
      return {Scope::kProbe, AnyStream("video")};
    case WhereField::kHasAudio:
      return {Scope::kProbe, AnyStream("audio")};
    case WhereField::kTag:
      return {Scope::kTag, "wt.text"};
  }
  return {Scope::kColumn, "NULL"};
}

// A value as a typed parameter: the cast keeps `width > 1.5` from asking PostgreSQL to
// read 1.5 as an integer.
std::string Placeholder(const WhereValue& value, PgQuery& query) {
  if (const auto* i = std::get_if<int64_t>(&value)) return query.Add(*i) + "::bigint";
  if (const auto* d = std::get_if<double>(&value)) return query.Add(*d) + "::double precision";
  if (const auto* s = std::get_if<std::string>(&value)) return query.Add(*s) + "::text";
  return query.Add(std::string(std::get<bool>(value) ? "true" : "false")) + "::boolean";
}

// `condition` for the current successful result of `stage`, or for one element `ws` of
// the array at `each` in its metadata.
std::string InCurrentResult(std::string_view alias, std::string_view stage, std::string_view each,
                            const std::string& condition) {
  const std::string a(alias);
  std::string sql = "EXISTS (SELECT 1 FROM derivatives " + a;
  if (!each.empty()) {
    sql += " CROSS JOIN LATERAL jsonb_array_elements(" + ArrayAt(a + ".metadata::jsonb", each) +
           ") ws(value)";
  }
  return sql + " WHERE " + a + ".asset_id = a.id AND " + a + ".stage = '" + std::string(stage) +
         "' AND " + a + ".is_current = 1 AND " + a + ".state = 'done' AND " + condition + ")";
}

void Term(const WhereExpr& expr, PgQuery& out) {
  FieldSql field = Sql(expr.field);
  std::string condition = field.value;
  if (expr.kind == WhereExpr::Kind::kCompare) {
    condition += " " + std::string(Symbol(expr.op)) + " " + Placeholder(expr.values.front(), out);
  } else {
    condition += " IN (";
    for (size_t i = 0; i < expr.values.size(); ++i) {
      if (i > 0) condition += ", ";
      condition += Placeholder(expr.values[i], out);
    }
    condition += ")";
  }
  switch (field.scope) {
    case Scope::kColumn:
      out.sql += "(" + condition + ")";
      return;
    case Scope::kNullableColumn:
      out.sql += "COALESCE(" + condition + ", false)";
      return;
    case Scope::kProbe:
      out.sql += InCurrentResult("wp", "probe", "", "COALESCE(" + condition + ", false)");
      return;
    case Scope::kProbeStream:
      out.sql += InCurrentResult("wp", "probe", "streams", "COALESCE(" + condition + ", false)");
      return;
    case Scope::kTag:
      // A tag search entry (catalog/search.h) of a current result, whatever its stage.
      out.sql +=
          "EXISTS (SELECT 1 FROM search_entries wt JOIN derivatives wd ON wd.id = wt.derivative_id"
          " WHERE wt.asset_id = a.id AND wt.kind = 'tag' AND wd.is_current = 1 AND " +
          condition + ")";
      return;
  }
}

void Compile(const WhereExpr& expr, PgQuery& out) {
  switch (expr.kind) {
    case WhereExpr::Kind::kOr:
    case WhereExpr::Kind::kAnd: {
      const bool is_or = expr.kind == WhereExpr::Kind::kOr;
      if (expr.children.empty()) {
        out.sql += is_or ? "false" : "true";
        return;
      }
      out.sql += "(";
      for (size_t i = 0; i < expr.children.size(); ++i) {
        if (i > 0) out.sql += is_or ? " OR " : " AND ";
        Compile(*expr.children[i], out);
      }
      out.sql += ")";
      return;
    }
    case WhereExpr::Kind::kNot:
      if (expr.children.empty()) {
        out.sql += "false";
        return;
      }
      out.sql += "NOT ";
      Compile(*expr.children.front(), out);
      return;
    case WhereExpr::Kind::kCompare:
    case WhereExpr::Kind::kIn:
      Term(expr, out);
      return;
    case WhereExpr::Kind::kHas:
      out.sql += "EXISTS (SELECT 1 FROM derivatives wh WHERE wh.asset_id = a.id AND wh.stage = " +
                 out.Add(expr.stage) + " AND wh.is_current = 1 AND wh.state = 'done')";
      return;
  }
}

}  // namespace

void CompilePgWhere(const WhereExpr& expr, PgQuery& query) { Compile(expr, query); }

}  // namespace reprise::catalog
