// Parameterised queries for the PostgreSQL catalog. Every value travels as a parameter
// ($1, $2, ...) in PostgreSQL's text format, never pasted into SQL; a query assembled at
// run time collects its values in a PgQuery, whose Add() hands out the placeholders in
// order. Types are inferred by the server from where a parameter stands; where they
// cannot be (a bare `$1 IS NULL`, a function argument), the SQL casts.
//
// Exec() and the row readers throw libpqxx's exceptions; PgPool::Transact() turns them
// into errors at the transaction's edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

namespace reprise::catalog {

// A parameter as sent: its text, or NULL.
using PgParam = std::optional<std::string>;

PgParam ToParam(std::nullptr_t);
PgParam ToParam(int64_t value);
PgParam ToParam(int value);
PgParam ToParam(double value);  // shortest text that reads back exactly
PgParam ToParam(bool value);    // 1 or 0: flags are INTEGER columns, as in SQLite
PgParam ToParam(std::string_view value);
PgParam ToParam(const std::string& value);
PgParam ToParam(const char* value);
template <class T>
PgParam ToParam(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return ToParam(*value);
}
inline PgParam ToParam(const PgParam& value) { return value; }

struct PgQuery {
  std::string sql;
  std::vector<PgParam> params;

  // Appends a parameter; returns its placeholder ("$3").
  template <class T>
  std::string Add(const T& value) {
    params.push_back(ToParam(value));
    return "$" + std::to_string(params.size());
  }
  // Appends `other`, renumbering its placeholders to follow this query's.
  void Append(const PgQuery& other);
};

pqxx::result Exec(pqxx::transaction_base& tx, const PgQuery& query);

template <class... Args>
pqxx::result Exec(pqxx::transaction_base& tx, std::string sql, const Args&... args) {
  return Exec(tx, PgQuery{std::move(sql), {ToParam(args)...}});
}

// As Exec, but prepared: the connection prepares the statement (named after a hash of its
// text) at its first use there and runs it by name after, so the server parses and plans
// it once per connection instead of on every call. For the queue's hot statements, whose
// text is fixed (a text built at run time from a request prepares once per shape). The
// server may then use a generic plan after a few runs: keep it to statements whose plan
// does not hinge on the values.
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const PgQuery& query);

template <class... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, std::string sql, const Args&... args) {
  return ExecPrepared(tx, PgQuery{std::move(sql), {ToParam(args)...}});
}

// A JSON array of strings, the way lists travel as one parameter
// (`= ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`).
std::string JsonList(const std::vector<std::string>& values);
std::string JsonList(const std::vector<int64_t>& values);

// A result row with the accessors of catalog/codec.h's CatalogRow, so the shared readers
// (ReadAsset, ReadJob, ...) read PostgreSQL rows too.
class PgRow {
 public:
  explicit PgRow(const pqxx::row& row) : row_(row) {}
  std::string Text(int column) const;
  int64_t Int64(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::optional<int64_t> OptionalInt64(int column) const;
  std::optional<double> OptionalDouble(int column) const;

 private:
  const pqxx::row& row_;
};

// Column readers; a NULL reads as empty / 0 / nullopt.
std::string Text(const pqxx::field& field);
int64_t Int(const pqxx::field& field);
std::optional<int64_t> OptionalInt(const pqxx::field& field);
std::optional<double> OptionalDouble(const pqxx::field& field);
std::optional<std::string> OptionalText(const pqxx::field& field);

}  // namespace reprise::catalog
