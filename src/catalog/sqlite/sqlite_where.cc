#include "catalog/sqlite/sqlite_where.h"

#include <string>
#include <string_view>
#include <utility>

namespace reprise::catalog {
namespace {

// Where a field's value lives, which decides how a condition on it is wrapped.
enum class Scope {
  kColumn,          // a NOT NULL column of `a`
  kNullableColumn,  // a column of `a` that may be NULL
  kProbe,           // a value in the current probe result `wp`
  kProbeStream,     // each stream `ws` of the current probe result (any of them)
  kTag,             // each tag search entry `wt` of a current result (any of them)
};

// `condition` holds for the current, successful result `alias` of a fixed stage, or for
// one element `ws` of the array at `each` in its metadata. The terms match the partial
// index derivatives_current (asset_id, stage) WHERE is_current = 1.
std::string InCurrentResult(std::string_view alias, std::string_view stage, std::string_view each,
                            const std::string& condition) {
  std::string a(alias);
  std::string sql = "EXISTS (SELECT 1 FROM derivatives " + a;
  if (!each.empty()) sql += ", json_each(" + a + ".metadata, '" + std::string(each) + "') ws";
  return sql + " WHERE " + a + ".asset_id = a.id AND " + a + ".stage = '" + std::string(stage) +
         "' AND " + a + ".is_current = 1 AND " + a + ".state = 'done' AND " + condition + ")";
}

// A key of the first stream of a type in the probe metadata; a video stream that is an
// attached picture (cover art) does not count.
std::string FirstStream(std::string_view type, std::string_view key) {
  std::string sql = "(SELECT json_extract(ws.value, '$." + std::string(key) +
                    "') FROM json_each(wp.metadata, '$.streams') ws"
                    " WHERE json_extract(ws.value, '$.type') = '" +
                    std::string(type) + "'";
  if (type == "video") sql += " AND NOT COALESCE(json_extract(ws.value, '$.attached_picture'), 0)";
  return sql + " ORDER BY ws.key LIMIT 1)";
}

std::string AnyStream(std::string_view type) {
  return "EXISTS (SELECT 1 FROM json_each(wp.metadata, '$.streams') ws"
         " WHERE json_extract(ws.value, '$.type') = '" +
         std::string(type) + "'" +
         (type == "video" ? " AND NOT COALESCE(json_extract(ws.value, '$.attached_picture'), 0)"
                          : "") +
         ")";
}

// Opens EXISTS over the asset's search entries of kind tag (catalog/search.h) that belong
// to a current result, whatever its stage; the condition on wt.text and ")" follow.
constexpr std::string_view kTagEntry =
    "EXISTS (SELECT 1 FROM search_entries wt JOIN derivatives wd ON wd.id = wt.derivative_id"
    " WHERE wt.asset_id = a.id AND wt.kind = 'tag' AND wd.is_current = 1 AND ";

struct FieldSql {
  Scope scope;
  std::string value;  // the SQL of the field's value in its scope
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
      return {Scope::kProbeStream, "json_extract(ws.value, '$.codec')"};
    case WhereField::kVideoCodec:
      return {Scope::kProbe, FirstStream("video", "codec")};
    case WhereField::kAudioCodec:
      return {Scope::kProbe, FirstStream("audio", "codec")};
    case WhereField::kSampleRate:
      return {Scope::kProbe, FirstStream("audio", "sample_rate")};
    case WhereField::kChannels:
      return {Scope::kProbe, FirstStream("audio", "channels")};
    case WhereField::kFrameRate:
      return {Scope::kProbe, FirstStream("video", "frame_rate")};
    case WhereField::kBitRate:
      return {Scope::kProbe, "json_extract(wp.metadata, '$.bit_rate')"};
    case WhereField::kHasVideo:
      return {Scope::kProbe, AnyStream("video")};
    case WhereField::kHasAudio:
      return {Scope::kProbe, AnyStream("audio")};
    case WhereField::kTag:
      return {Scope::kTag, "wt.text"};
  }
  return {Scope::kColumn, "NULL"};
}

SqlValue Bind(const WhereValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return static_cast<int64_t>(std::get<bool>(value) ? 1 : 0);
}

// A comparison or `in` term, 0 or 1.
void Term(const WhereExpr& expr, SqlQuery& out) {
  FieldSql field = Sql(expr.field);
  std::string condition = field.value;
  if (expr.kind == WhereExpr::Kind::kCompare) {
    condition += " " + std::string(Symbol(expr.op)) + " ?";
  } else {
    condition += " IN (";
    for (size_t i = 0; i < expr.values.size(); ++i) condition += i == 0 ? "?" : ", ?";
    condition += ")";
  }
  for (const auto& value : expr.values) out.binds.push_back(Bind(value));
  switch (field.scope) {
    case Scope::kColumn:
      out.sql += "(" + condition + ")";
      return;
    case Scope::kNullableColumn:
      out.sql += "COALESCE(" + condition + ", 0)";
      return;
    case Scope::kProbe:
      out.sql += InCurrentResult("wp", "probe", "", condition);
      return;
    case Scope::kProbeStream:
      out.sql += InCurrentResult("wp", "probe", "$.streams", condition);
      return;
    case Scope::kTag:
      out.sql += std::string(kTagEntry) + condition + ")";
      return;
  }
}

void Compile(const WhereExpr& expr, SqlQuery& out) {
  switch (expr.kind) {
    case WhereExpr::Kind::kOr:
    case WhereExpr::Kind::kAnd: {
      bool is_or = expr.kind == WhereExpr::Kind::kOr;
      if (expr.children.empty()) {
        out.sql += is_or ? "0" : "1";
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
        out.sql += "0";
        return;
      }
      // Every term is 0 or 1, so NOT is plain two-valued negation.
      out.sql += "NOT ";
      Compile(*expr.children.front(), out);
      return;
    case WhereExpr::Kind::kCompare:
    case WhereExpr::Kind::kIn:
      Term(expr, out);
      return;
    case WhereExpr::Kind::kHas:
      out.sql +=
          "EXISTS (SELECT 1 FROM derivatives wh WHERE wh.asset_id = a.id AND wh.stage = ?"
          " AND wh.is_current = 1 AND wh.state = 'done')";
      out.binds.emplace_back(expr.stage);
      return;
  }
}

}  // namespace

SqlQuery CompileWhere(const WhereExpr& expr) {
  SqlQuery query;
  Compile(expr, query);
  return query;
}

}  // namespace reprise::catalog
