// A fresh PostgreSQL database per test, on the server the `postgres` CTest fixture started
// (scripts/pg_server.sh): its URL comes from REPRISE_TEST_POSTGRES_URL, or from the file
// named by REPRISE_TEST_POSTGRES_URL_FILE (what CMake sets). No server is a test failure,
// never a skip. Each PgTestEnv creates its own database and drops it when destroyed, so
// tests are independent and run in parallel.
#pragma once

#include <memory>
#include <string>

#include "catalog/postgres/pg_pool.h"
#include "tests/support/catalog_backends.h"

namespace reprise::catalog {

// The fixture server's URL (its `postgres` database); throws when there is none.
std::string TestPostgresUrl();

// `url` with its database name replaced by `database`.
std::string WithDatabase(const std::string& url, const std::string& database);

class PgTestEnv final : public CatalogTestEnv {
 public:
  PgTestEnv();
  ~PgTestEnv() override;
  PgTestEnv(const PgTestEnv&) = delete;
  PgTestEnv& operator=(const PgTestEnv&) = delete;

  [[nodiscard]] Result<std::unique_ptr<Catalog>> Connect(const Clock& clock) override;
  [[nodiscard]] std::string Url() const override { return url_; }
  const std::string& url() const { return url_; }
  const std::string& database() const { return database_; }

 private:
  std::string admin_url_;
  std::string database_;
  std::string url_;
};

}  // namespace reprise::catalog
