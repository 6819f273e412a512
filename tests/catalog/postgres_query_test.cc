// ExecPrepared (catalog/postgres/pg_query.h): a statement is prepared once per connection
// and run by name after, with its parameters, and a connection the server dropped
// prepares it again on the new one.

#include "catalog/postgres/pg_query.h"

#include <cstdint>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "catalog/postgres/pg_pool.h"
#include "tests/catalog/catalog_contract.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/test_support.h"

namespace reprise::catalog {
namespace {

constexpr const char* kDoubled = "SELECT $1::bigint * 2";
constexpr const char* kTripled = "SELECT $1::bigint * 3";

// Runs `sql` prepared with `value` and returns its answer and the statements the
// connection has prepared with that text.
Result<std::pair<int64_t, int64_t>> RunPrepared(PgPool& pool, const char* sql, int64_t value) {
  return pool.Transact(PgRetry::kYes, [&](pqxx::work& tx) -> Result<std::pair<int64_t, int64_t>> {
    const int64_t answer = Int(ExecPrepared(tx, sql, value)[0][0]);
    const int64_t prepared = Int(Exec(tx,
                                      "SELECT COUNT(*) FROM pg_prepared_statements"
                                      " WHERE name LIKE 'reprise\\_%' AND statement = $1",
                                      std::string(sql))[0][0]);
    return std::make_pair(answer, prepared);
  });
}

TEST(PostgresQuery, ExecPreparedPreparesEachTextOncePerConnection) {
  PgTestEnv env;
  PgPoolOptions options;
  options.max_connections = 1;  // every transaction on the same connection
  PgPool pool(env.url(), options);
  EXPECT_EQ(Ok(RunPrepared(pool, kDoubled, 21)), std::make_pair(int64_t{42}, int64_t{1}));
  EXPECT_EQ(Ok(RunPrepared(pool, kDoubled, 5)), std::make_pair(int64_t{10}, int64_t{1}));
  EXPECT_EQ(Ok(RunPrepared(pool, kTripled, 5)), std::make_pair(int64_t{15}, int64_t{1}));
  auto total = pool.Transact(PgRetry::kYes, [](pqxx::work& tx) -> Result<int64_t> {
    return Int(Exec(
        tx, "SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'reprise\\_%'")[0][0]);
  });
  EXPECT_EQ(Ok(std::move(total)), 2);
}

TEST(PostgresQuery, ExecPreparedPreparesAgainOnANewConnection) {
  PgTestEnv env;
  PgPoolOptions options;
  options.max_connections = 1;
  PgPool pool(env.url(), options);
  EXPECT_EQ(Ok(RunPrepared(pool, kDoubled, 1)).first, 2);
  {
    pqxx::connection admin(TestPostgresUrl());
    pqxx::nontransaction(admin).exec(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" +
        env.database() + "'");
  }
  EXPECT_EQ(Ok(RunPrepared(pool, kDoubled, 4)), std::make_pair(int64_t{8}, int64_t{1}));
}

}  // namespace
}  // namespace reprise::catalog
