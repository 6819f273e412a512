// A PostgreSQL server of a test's own (the fixture's is shared by tests running in
// parallel), stopped and started again on its port by scripts/pg_server.sh; stopped for
// good at the end, also when the test fails. For catalog_tests (REPRISE_PG_SERVER_SCRIPT).
#pragma once

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace reprise::catalog {

class OwnServer {
 public:
  OwnServer() { Script("start"); }
  ~OwnServer() { Script("stop"); }
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  void Halt() { Script("halt"); }
  void Resume() { Script("resume"); }
  std::string url() const {
    std::ifstream in(dir_.Join("url"));
    std::string url;
    std::getline(in, url);
    return url;
  }

 private:
  void Script(const std::string& action) {
    auto result = reprise::testing::RunCommand({REPRISE_PG_SERVER_SCRIPT, action, dir_.path()});
    if (result.exit_code != 0) ADD_FAILURE() << "pg_server.sh " << action << ": " << result.output;
  }

  reprise::testing::TempDir dir_;
};

}  // namespace reprise::catalog
