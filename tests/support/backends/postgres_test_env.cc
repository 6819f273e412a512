#include "tests/support/backends/postgres_test_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include <pqxx/pqxx>

#include "catalog/postgres/pg_catalog.h"

namespace reprise::catalog {

std::string TestPostgresUrl() {
  if (const char* url = std::getenv("REPRISE_TEST_POSTGRES_URL"); url != nullptr && *url) {
    return url;
  }
  if (const char* file = std::getenv("REPRISE_TEST_POSTGRES_URL_FILE"); file != nullptr) {
    std::ifstream in(file);
    std::string url;
    if (in && std::getline(in, url) && !url.empty()) return url;
    throw std::runtime_error(std::string("no PostgreSQL URL in ") + file +
                             ": did the pg_server_start fixture run? (ctest starts it)");
  }
  throw std::runtime_error(
      "no PostgreSQL server for this test: set REPRISE_TEST_POSTGRES_URL or run it through "
      "ctest, which starts one (scripts/pg_server.sh)");
}

std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t slash = url.rfind('/');
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + database +
         (query == std::string::npos ? "" : url.substr(query));
}

PgTestEnv::PgTestEnv() : admin_url_(TestPostgresUrl()) {
  static std::atomic<int> counter{0};
  std::random_device random;
  database_ = "reprise_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
              std::to_string(random() % 1000000);
  url_ = WithDatabase(admin_url_, database_);
  pqxx::connection admin(admin_url_);
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + database_);
}

PgTestEnv::~PgTestEnv() {
  try {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The server is gone (a test stopped it): the fixture's stop removes everything.
  }
}

Result<std::unique_ptr<Catalog>> PgTestEnv::Connect(const Clock& clock) {
  PgPoolOptions options;
  options.max_connections = 4;
  return PostgresCatalog::Open(url_, clock, options);
}

}  // namespace reprise::catalog
