#include "stages/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/stages/fake_stage.h"

namespace reprise::stages {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Stage> Fake(std::string name, std::vector<std::string> inputs = {}) {
  return std::make_unique<FakeStage>(std::move(name), 1, nlohmann::json::object(), FakeBehaviour{},
                                     std::move(inputs));
}

std::vector<std::string> Names(const std::vector<const Stage*>& stages) {
  std::vector<std::string> names;
  for (const auto* stage : stages) names.emplace_back(stage->Name());
  return names;
}

TEST(Registry, WithInputsAddsInputsOfInputsInRegistrationOrder) {
  Registry registry;
  ASSERT_TRUE(registry.Add(Fake("probe")).has_value());
  ASSERT_TRUE(registry.Add(Fake("scenes")).has_value());
  ASSERT_TRUE(registry.Add(Fake("transcript")).has_value());
  ASSERT_TRUE(registry.Add(Fake("semantics", {"scenes", "transcript"})).has_value());
  ASSERT_TRUE(registry.Add(Fake("chapters", {"semantics"})).has_value());
  ASSERT_TRUE(registry.Add(Fake("thumbnail")).has_value());
  ASSERT_TRUE(registry.Seal().has_value());
  EXPECT_EQ(Names(registry.WithInputs({registry.Find("chapters")})),
            (std::vector<std::string>{"scenes", "transcript", "semantics", "chapters"}));
  EXPECT_EQ(Names(registry.WithInputs({registry.Find("thumbnail"), registry.Find("semantics")})),
            (std::vector<std::string>{"scenes", "transcript", "semantics", "thumbnail"}));
  EXPECT_EQ(Names(registry.WithInputs({registry.Find("probe")})),
            (std::vector<std::string>{"probe"}));
  EXPECT_TRUE(registry.WithInputs({}).empty());
}

TEST(Registry, RefusesUnknownLateOrCyclicInputsNamingThem) {
  Registry unknown;
  ASSERT_TRUE(unknown.Add(Fake("semantics", {"scenes"})).has_value());
  auto sealed = unknown.Seal();
  ASSERT_FALSE(sealed.has_value());
  EXPECT_EQ(sealed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(sealed.error().message, HasSubstr("'scenes', which is unknown or not enabled"));

  Registry late;
  ASSERT_TRUE(late.Add(Fake("semantics", {"scenes"})).has_value());
  ASSERT_TRUE(late.Add(Fake("scenes")).has_value());
  sealed = late.Seal();
  ASSERT_FALSE(sealed.has_value());
  EXPECT_THAT(sealed.error().message, HasSubstr("registered after it"));

  Registry cycle;
  ASSERT_TRUE(cycle.Add(Fake("a", {"b"})).has_value());
  ASSERT_TRUE(cycle.Add(Fake("b", {"a"})).has_value());
  EXPECT_FALSE(cycle.Seal().has_value());

  Registry self;
  ASSERT_TRUE(self.Add(Fake("a", {"a"})).has_value());
  EXPECT_FALSE(self.Seal().has_value());
}

}  // namespace
}  // namespace reprise::stages
