// JsonSchema: a validator for the subset of JSON Schema (draft 7, which is also what
// OpenAI's structured outputs accept) that reprise's stages send as `response_format`
// and then check answers against.
//
// Supported keywords: type (a name or an array of names, so ["string","null"] is how a
// nullable field is written), properties, patternProperties (ECMAScript regular
// expressions as std::regex reads them), additionalProperties (false or a schema),
// required (a property name over 256 bytes is a violation where patternProperties
// apply: std::regex recurses per character), items (one schema, or an array of schemas for a
// tuple), enum, const, minItems/maxItems, minLength/maxLength (counted in Unicode code points),
// minimum/maximum, and the boolean schemas `true` and `false`. Annotations ($schema,
// $id, $comment, title, description, default, examples) are ignored. Any other keyword
// (pattern, $ref, anyOf, format, ...) makes Compile fail: a schema is never silently
// checked less strictly than it says.
//
// Errors:
//   Compile   kInvalidArgument naming the JSON Pointer of the offending keyword
//             ("/properties/tags: unsupported keyword 'uniqueItems'").
//   Validate  kInvalidArgument naming the JSON Pointer of the first value that fails and
//             why ("/scenes/0/tags: 7 items, more than maxItems 5").
// Schemas are trusted (a stage's own): std::regex backtracks exponentially on patterns
// with nested quantifiers. Values are not: any JSON validates or fails with a path.
// Thread-safety: a compiled JsonSchema is immutable; Validate may run on many threads.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise::ai {

class JsonSchema final {
 public:
  struct Node;  // one compiled (sub)schema, defined in json_schema.cc

  [[nodiscard]] static Result<JsonSchema> Compile(const nlohmann::json& schema);

  // Ok when `value` satisfies the schema; the first violation otherwise (see above).
  [[nodiscard]] Result<void> Validate(const nlohmann::json& value) const;

  // The schema as it was given.
  const nlohmann::json& document() const { return document_; }

 private:
  JsonSchema(nlohmann::json document, std::shared_ptr<const Node> root)
      : document_(std::move(document)), root_(std::move(root)) {}

  nlohmann::json document_;
  std::shared_ptr<const Node> root_;
};

}  // namespace reprise::ai
