#include "tests/support/catalog_backends.h"

#include "catalog/sqlite/sqlite_catalog.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/test_support.h"

namespace reprise::catalog {
namespace {

// A catalog file in a temporary directory.
class SqliteTestEnv final : public CatalogTestEnv {
 public:
  Result<std::unique_ptr<Catalog>> Connect(const Clock& clock) override {
    return SqliteCatalog::Open(path(), clock);
  }
  std::string Url() const override { return "sqlite:" + path(); }

 private:
  std::string path() const { return dir_.Join("catalog.db"); }

  reprise::testing::TempDir dir_;
};

}  // namespace

std::vector<CatalogBackend> CatalogBackends() {
  std::vector<CatalogBackend> backends;
  backends.push_back({"sqlite", [] { return std::make_unique<SqliteTestEnv>(); }});
  // A fresh database per test on the server of the `postgres` CTest fixture.
  backends.push_back({"postgres", [] { return std::make_unique<PgTestEnv>(); }});
  return backends;
}

}  // namespace reprise::catalog
