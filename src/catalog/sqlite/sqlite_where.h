// Compiles a parsed `--where` expression (catalog/where.h) into an SQLite boolean
// expression over the asset alias `a`, for AssetConditions() to append to its WHERE.
//
// Every value of the expression, and the stage of has(), travels as a bound parameter
// (`?`, in `binds` order); the SQL text is assembled only from fixed fragments chosen by
// the tree's shape and fields, so it is the same for any two trees that differ only in
// their values. Each term yields 0 or 1, never NULL: a comparison with a missing value
// (NULL duration, no probe result, no such stream) is false, and `not` of it is true.
//
// Probe fields read the metadata JSON of the asset's current, successful `probe` result
// and tags the `tags` array of its current `tags` result, each through an EXISTS
// subquery on the partial index derivatives_current; see docs/WHERE.md for the fields.
#pragma once

#include "catalog/sqlite/sqlite_queries.h"
#include "catalog/where.h"

namespace reprise::catalog {

SqlQuery CompileWhere(const WhereExpr& expr);

}  // namespace reprise::catalog
