// Compiles a parsed `--where` expression (catalog/where.h) into a PostgreSQL boolean
// expression over the asset alias `a`, with the meaning docs/WHERE.md gives and the
// SQLite backend implements (catalog/sqlite/sqlite_where.h): every value is a parameter
// appended to the query, the SQL text comes only from fixed fragments, and every term is
// true or false, never NULL (a comparison with a missing value is false, `not` of it
// true).
//
// Metadata is stored as JSON text; probe fields read the current successful `probe`
// result's metadata as jsonb, tags the `tags` array of the current `tags` result. A JSON
// value of the wrong type (a string where a number is asked) compares as missing.
#pragma once

#include "catalog/postgres/pg_query.h"
#include "catalog/where.h"

namespace reprise::catalog {

// Appends the expression's SQL to query.sql and its values to query.params.
void CompilePgWhere(const WhereExpr& expr, PgQuery& query);

}  // namespace reprise::catalog
