#include "ai/json_schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace reprise::ai {
namespace {

using nlohmann::json;

// The draft 7 keyword files of the JSON-Schema-Test-Suite whose keywords JsonSchema
// implements: every case in them runs.
const std::set<std::string> kSupported = {
    "additionalProperties.json",
    "boolean_schema.json",
    "const.json",
    "default.json",
    "enum.json",
    "items.json",
    "maxItems.json",
    "maxLength.json",
    "maximum.json",
    "minItems.json",
    "minLength.json",
    "minimum.json",
    "patternProperties.json",
    "properties.json",
    "required.json",
    "type.json",
};

// Deliberately not implemented (Compile refuses these keywords, so a schema using one is
// never checked less strictly than it says): the stages' schemas do not need them.
const std::set<std::string> kNotSupported = {
    "additionalItems.json",
    "allOf.json",
    "anyOf.json",
    "contains.json",
    "definitions.json",
    "dependencies.json",
    "exclusiveMaximum.json",
    "exclusiveMinimum.json",
    "if-then-else.json",
    "maxProperties.json",
    "minProperties.json",
    "multipleOf.json",
    "not.json",
    "oneOf.json",
    "pattern.json",
    "propertyNames.json",
    "ref.json",
    "refRemote.json",
    "uniqueItems.json",
};

json ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

TEST(JsonSchemaSuite, EveryFileIsEitherRunOrListedAsNotSupported) {
  for (const auto& entry : std::filesystem::directory_iterator(REPRISE_JSON_SCHEMA_TEST_SUITE)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename();
    EXPECT_TRUE(kSupported.count(name) + kNotSupported.count(name) == 1) << name;
  }
}

TEST(JsonSchemaSuite, PassesEveryCaseOfTheSupportedKeywordFiles) {
  int cases = 0;
  for (const std::string& file : kSupported) {
    const json groups = ReadJson(std::filesystem::path(REPRISE_JSON_SCHEMA_TEST_SUITE) / file);
    for (const json& group : groups) {
      auto schema = JsonSchema::Compile(group["schema"]);
      ASSERT_TRUE(schema) << file << " / " << group["description"] << ": "
                          << schema.error().ToString();
      for (const json& test : group["tests"]) {
        auto valid = schema->Validate(test["data"]);
        EXPECT_EQ(valid.has_value(), test["valid"].get<bool>())
            << file << " / " << group["description"].get<std::string>() << " / "
            << test["description"].get<std::string>()
            << (valid ? std::string() : ": " + valid.error().message);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 150);
}

TEST(JsonSchemaSuite, RefusesTheKeywordsOfTheFilesItDoesNotSupport) {
  for (const char* file : {"pattern.json", "uniqueItems.json", "anyOf.json", "ref.json",
                           "multipleOf.json", "minProperties.json"}) {
    const json groups = ReadJson(std::filesystem::path(REPRISE_JSON_SCHEMA_TEST_SUITE) / file);
    auto schema = JsonSchema::Compile(groups[0]["schema"]);
    ASSERT_FALSE(schema) << file;
    EXPECT_EQ(schema.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(schema.error().message.find("unsupported keyword"), std::string::npos)
        << schema.error().message;
  }
}

// The shape a `semantics` stage asks for: nested objects, bounded arrays, a nullable field.
const json kSceneSchema = json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["scenes", "summary"],
  "properties": {
    "summary": {"type": "string", "minLength": 1, "maxLength": 400},
    "mood": {"type": ["string", "null"], "enum": ["calm", "tense", null]},
    "scenes": {
      "type": "array", "minItems": 1, "maxItems": 3,
      "items": {
        "type": "object", "additionalProperties": false,
        "required": ["description", "tags", "confidence"],
        "properties": {
          "description": {"type": "string"},
          "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
          "confidence": {"type": "number", "minimum": 0, "maximum": 1}
        }
      }
    }
  }
})");

std::string ErrorFor(const json& value) {
  auto schema = JsonSchema::Compile(kSceneSchema);
  EXPECT_TRUE(schema);
  auto valid = schema->Validate(value);
  return valid ? "" : valid.error().message;
}

TEST(JsonSchema, AcceptsAValidAnswerIncludingANullableNull) {
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "A dog.", "mood": null,
      "scenes": [{"description": "a dog", "tags": ["dog"], "confidence": 0.5}]})")),
            "");
}

TEST(JsonSchema, NamesThePathOfTheFirstViolation) {
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "A dog.", "scenes": [
      {"description": "a", "tags": [], "confidence": 1},
      {"description": "b", "tags": ["x", "y", "z"], "confidence": 1}]})")),
            "/scenes/1/tags: 3 items, more than maxItems 2");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "A dog.", "scenes": [
      {"description": "a", "tags": [], "confidence": 1.5}]})")),
            "/scenes/0/confidence: 1.5 is more than maximum 1");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "A dog.", "scenes": [
      {"description": "a", "tags": [7], "confidence": 1}]})")),
            "/scenes/0/tags/0: integer is not of type \"string\"");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "A dog.", "scenes": []})")),
            "/scenes: 0 items, fewer than minItems 1");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "", "scenes": []})")),
            "/scenes: 0 items, fewer than minItems 1");
  EXPECT_EQ(ErrorFor(json::parse(R"({"scenes": []})")),
            "/: required property 'summary' is missing");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "x", "scenes": [
      {"description": "a", "tags": [], "confidence": 1, "extra": 1}]})")),
            "/scenes/0: property 'extra' is not allowed");
  EXPECT_EQ(ErrorFor(json::parse(R"({"summary": "x", "mood": "happy", "scenes": [
      {"description": "a", "tags": [], "confidence": 1}]})")),
            "/mood: \"happy\" is not one of [\"calm\",\"tense\",null]");
  EXPECT_EQ(ErrorFor(json::parse(R"([1])")), "/: array is not of type \"object\"");
}

TEST(JsonSchema, EscapesPointerTokens) {
  auto schema =
      JsonSchema::Compile(json::parse(R"({"properties": {"a/b~c": {"type": "integer"}}})"));
  ASSERT_TRUE(schema);
  auto valid = schema->Validate(json::parse(R"({"a/b~c": "x"})"));
  ASSERT_FALSE(valid);
  EXPECT_EQ(valid.error().message, "/a~1b~0c: string is not of type \"integer\"");
}

TEST(JsonSchema, ALongNameIsNotMatchedAgainstPatterns) {
  // std::regex overflows the stack matching "a.*b" against a 200,000 byte name.
  auto schema = JsonSchema::Compile(json::parse(R"({"patternProperties": {"a.*b": {}}})"));
  ASSERT_TRUE(schema);
  auto valid = schema->Validate(json{{std::string(200'000, 'a') + "b", 1}});
  ASSERT_FALSE(valid);
  EXPECT_EQ(valid.error().message,
            "/: a property name of 200001 bytes is longer than the 256 matched against "
            "patternProperties");
  EXPECT_TRUE(schema->Validate(json{{std::string(255, 'a') + "b", 1}}));
}

TEST(JsonSchema, RefusesMalformedSchemasNamingWhere) {
  auto bad_type = JsonSchema::Compile(json::parse(R"({"properties": {"a": {"type": "text"}}})"));
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().message, "schema /properties/a/type: unknown type \"text\"");
  auto negative = JsonSchema::Compile(json::parse(R"({"maxItems": -1})"));
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().message, "schema /maxItems: must be a non-negative integer");
  auto unsupported =
      JsonSchema::Compile(json::parse(R"({"items": {"type": "string", "format": "uri"}})"));
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().message, "schema /items: unsupported keyword 'format'");
  EXPECT_FALSE(JsonSchema::Compile(json(3)));
  EXPECT_FALSE(JsonSchema::Compile(json::parse(R"({"patternProperties": {"(": {}}})")));
}

}  // namespace
}  // namespace reprise::ai
