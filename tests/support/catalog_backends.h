// The catalog backends the parameterised suites run against, listed in one place:
// CatalogBackends() returns SQLite always, and every other backend this build and this
// machine provide (a PostgreSQL entry joins with one line in catalog_backends.cc). The
// catalog contract suite, the `where` oracle and the backfill fixture all instantiate
// over this list, so a new backend runs them all without another INSTANTIATE line.
//
// Linked from reprise_test_backends (the test binaries that open catalogs), which links
// every backend library; reprise_test_support stays free of databases.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::catalog {

// One fresh, empty database, removed when the env is destroyed. Connect() may be called
// several times; every catalog it returns is a separate connection to the same data (for
// reopen and concurrency tests).
class CatalogTestEnv {
 public:
  virtual ~CatalogTestEnv() = default;
  [[nodiscard]] virtual Result<std::unique_ptr<Catalog>> Connect(const Clock& clock) = 0;
  // What `reprise` takes to reach this database ([catalog] url): "sqlite:/tmp/x/catalog.db".
  [[nodiscard]] virtual std::string Url() const = 0;
};

struct CatalogBackend {
  std::string name;  // test-name suffix: letters, digits, underscores
  std::function<std::unique_ptr<CatalogTestEnv>()> make_env;
};

// SQLite first; the list every suite instantiates over.
std::vector<CatalogBackend> CatalogBackends();

inline std::string BackendName(const ::testing::TestParamInfo<CatalogBackend>& info) {
  return info.param.name;
}

// How test listings show the parameter (ctest names carry it): the backend's name, not
// the struct's raw bytes.
inline void PrintTo(const CatalogBackend& backend, std::ostream* out) { *out << backend.name; }

}  // namespace reprise::catalog
