#include "catalog/postgres/pg_query.h"
#include "core/json_text.h"

#include <cctype>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace reprise::catalog {

PgParam ToParam(std::nullptr_t) { return std::nullopt; }
PgParam ToParam(int64_t value) { return std::to_string(value); }
PgParam ToParam(int value) { return std::to_string(value); }
PgParam ToParam(double value) { return fmt::format("{}", value); }
PgParam ToParam(bool value) { return value ? "1" : "0"; }
PgParam ToParam(std::string_view value) { return std::string(value); }
PgParam ToParam(const std::string& value) { return value; }
PgParam ToParam(const char* value) { return std::string(value); }

void PgQuery::Append(const PgQuery& other) {
  const size_t offset = params.size();
  // Placeholders are $ followed by digits; text inside the SQL never holds a $ otherwise
  // (values are parameters, never literals).
  for (size_t i = 0; i < other.sql.size(); ++i) {
    const char c = other.sql[i];
    if (c != '$' || i + 1 >= other.sql.size() ||
        std::isdigit(static_cast<unsigned char>(other.sql[i + 1])) == 0) {
      sql.push_back(c);
      continue;
    }
    size_t end = i + 1;
    while (end < other.sql.size() && std::isdigit(static_cast<unsigned char>(other.sql[end]))) {
      ++end;
    }
    const size_t n = std::stoul(other.sql.substr(i + 1, end - i - 1));
    sql += "$" + std::to_string(n + offset);
    i = end - 1;
  }
  params.insert(params.end(), other.params.begin(), other.params.end());
}

namespace {

std::vector<const char*> Values(const PgQuery& query) {
  std::vector<const char*> values;
  values.reserve(query.params.size());
  for (const auto& param : query.params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

}  // namespace

pqxx::result Exec(pqxx::transaction_base& tx, const PgQuery& query) {
  const auto values = Values(query);
  return tx.exec_params(query.sql, pqxx::prepare::make_dynamic_params(values));
}

pqxx::result ExecPrepared(pqxx::transaction_base& tx, const PgQuery& query) {
  const std::string name = fmt::format("reprise_{:016x}", std::hash<std::string>{}(query.sql));
  try {
    // Registers the text under the name, or finds it registered: no I/O (libpqxx prepares
    // it on the server at its first execution on this connection).
    tx.conn().prepare(name, query.sql);
  } catch (const pqxx::argument_error&) {
    return Exec(tx, query);  // two texts with one hash: the second runs unprepared
  }
  const auto values = Values(query);
  return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
}

std::string JsonList(const std::vector<std::string>& values) {
  return JsonText(nlohmann::json(values));
}

std::string JsonList(const std::vector<int64_t>& values) { return nlohmann::json(values).dump(); }

std::string Text(const pqxx::field& field) {
  return field.is_null() ? std::string() : std::string(field.c_str(), field.size());
}

int64_t Int(const pqxx::field& field) { return field.is_null() ? 0 : field.as<int64_t>(); }

std::optional<int64_t> OptionalInt(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<int64_t>();
}

std::optional<double> OptionalDouble(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<double>();
}

std::optional<std::string> OptionalText(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return std::string(field.c_str(), field.size());
}

std::string PgRow::Text(int column) const { return catalog::Text(row_[column]); }
int64_t PgRow::Int64(int column) const { return Int(row_[column]); }
std::optional<std::string> PgRow::OptionalText(int column) const {
  return catalog::OptionalText(row_[column]);
}
std::optional<int64_t> PgRow::OptionalInt64(int column) const { return OptionalInt(row_[column]); }
std::optional<double> PgRow::OptionalDouble(int column) const {
  return catalog::OptionalDouble(row_[column]);
}

}  // namespace reprise::catalog
