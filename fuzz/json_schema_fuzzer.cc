// A model's answer is untrusted text: the chat client parses it as JSON and validates it
// against the schema the stage asked for (ai/json_schema.h). Any bytes must come back as
// a value that validates or an error naming a path, never a crash. The input is a schema
// and a value separated by the first newline; the value is also checked against a fixed
// schema of the shape the semantics stage uses. Schemas are reprise's own, so fuzzed
// schemas with patternProperties are left out: std::regex backtracks exponentially on a
// pattern like "a**b" and recurses deeply compiling "((((", which no stage writes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ai/json_schema.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const reprise::ai::JsonSchema& FixedSchema() {
  static const reprise::ai::JsonSchema schema =
      *reprise::ai::JsonSchema::Compile(nlohmann::json::parse(R"({
        "type": "object", "additionalProperties": false, "required": ["scenes", "summary"],
        "properties": {
          "summary": {"type": ["string", "null"], "minLength": 1, "maxLength": 40},
          "mood": {"enum": ["calm", "tense", null, 1, [1], {"a": 1}]},
          "scenes": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "required": ["tags"], "patternProperties": {"^x-": {"const": 1}},
            "properties": {
              "tags": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
              "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}}}})"));
  return schema;
}

void ExpectPathError(const reprise::Result<void>& result) {
  if (!result) Check(!result.error().message.empty() && result.error().message[0] == '/');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view value_text =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  const nlohmann::json value = nlohmann::json::parse(value_text, nullptr, false);
  if (value.is_discarded()) return 0;
  ExpectPathError(FixedSchema().Validate(value));
  if (newline != std::string_view::npos) {
    const std::string_view schema_text = input.substr(0, newline);
    if (schema_text.find("patternProperties") != std::string_view::npos) return 0;
    const nlohmann::json schema = nlohmann::json::parse(schema_text, nullptr, false);
    if (schema.is_discarded()) return 0;
    auto compiled = reprise::ai::JsonSchema::Compile(schema);
    if (compiled) ExpectPathError(compiled->Validate(value));
  }
  return 0;
}
