// The checked-in OpenAPI document judged by an independent validator
// (@apidevtools/swagger-parser from npm, pinned in tests/interop/openapi, installed by
// scripts/install-deps.sh). A copy with a required field removed must be refused, so a
// validator that accepts anything cannot pass this test.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace reprise {
namespace {

using ::testing::HasSubstr;

class OpenApiInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::RunCommand(
                  {"test", "-d", std::string(kDir) + "/node_modules/@apidevtools/swagger-parser"})
                  .exit_code,
              0)
        << "the validator is missing: run scripts/install-deps.sh (npm ci in " << kDir << ")";
  }

  testing::CommandResult Validate(const std::string& file) {
    return testing::RunCommand({"node", std::string(kDir) + "/validate.js", file});
  }

  static constexpr const char* kDir = REPRISE_OPENAPI_VALIDATOR_DIR;
  testing::TempDir dir_;
};

TEST_F(OpenApiInterop, TheDocumentIsValidOpenApi31) {
  auto result = Validate(REPRISE_OPENAPI_DOCUMENT);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.out, HasSubstr("valid 3.1"));
}

TEST_F(OpenApiInterop, ABrokenCopyIsRefused) {
  auto doc = nlohmann::json::parse(testing::ReadFile(REPRISE_OPENAPI_DOCUMENT));
  doc["info"].erase("version");
  testing::WriteFile(dir_.Join("broken.json"), doc.dump());
  auto result = Validate(dir_.Join("broken.json"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.out, HasSubstr("version"));
}

}  // namespace
}  // namespace reprise
