#include "ai/json_schema.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace reprise::ai {

using nlohmann::json;

namespace {

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kInteger = 4,  // also set for every whole number, so "number" covers it
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
};

constexpr std::array<std::pair<std::string_view, uint8_t>, 7> kTypeNames{{
    {"null", kNull},
    {"boolean", kBoolean},
    {"integer", kInteger},
    {"number", kNumber | kInteger},
    {"string", kString},
    {"array", kArray},
    {"object", kObject},
}};

constexpr std::array<std::string_view, 7> kAnnotations{
    "$schema", "$id", "$comment", "title", "description", "default", "examples"};

// The type bits a value has: 1.0 is an integer too (draft 6 on).
uint8_t TypeOf(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return kNull;
    case json::value_t::boolean:
      return kBoolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return kInteger;
    case json::value_t::number_float: {
      const double d = value.get<double>();
      return std::isfinite(d) && std::floor(d) == d ? kInteger | kNumber : kNumber;
    }
    case json::value_t::string:
      return kString;
    case json::value_t::array:
      return kArray;
    case json::value_t::object:
      return kObject;
    default:
      return 0;
  }
}

std::string TypeName(const json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();
}

std::string Escape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + Escape(token);
}

// std::regex recurses once per character matched: a name from an untrusted answer is
// matched only when short enough not to overflow the stack.
constexpr size_t kMaxPatternSubject = 256;

std::string Where(const std::string& pointer) { return pointer.empty() ? "/" : pointer; }

size_t CodePoints(const std::string& text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;  // not a continuation byte
  }
  return count;
}

}  // namespace

struct JsonSchema::Node {
  std::optional<bool> constant;  // the boolean schemas true and false
  uint8_t types = 0;             // 0: any type
  std::string type_text;         // as written, for messages
  std::map<std::string, std::shared_ptr<const Node>> properties;
  std::vector<std::pair<std::string, std::regex>> pattern_texts;
  std::vector<std::shared_ptr<const Node>> pattern_nodes;
  std::shared_ptr<const Node> additional;  // null: any additional property is allowed
  std::vector<std::string> required;
  std::shared_ptr<const Node> items;                              // every item
  std::optional<std::vector<std::shared_ptr<const Node>>> tuple;  // items as an array
  std::optional<json> enum_values;
  std::optional<json> const_value;
  std::optional<uint64_t> min_items, max_items, min_length, max_length;
  std::optional<double> minimum, maximum;
};

namespace {

using Node = JsonSchema::Node;

Result<std::shared_ptr<const Node>> CompileNode(const json& schema, const std::string& pointer);

tl::unexpected<Error> SchemaError(const std::string& pointer, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("schema {}: {}", Where(pointer), what));
}

Result<uint64_t> Count(const json& value, const std::string& pointer) {
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0)) {
    return value.get<uint64_t>();
  }
  return SchemaError(pointer, "must be a non-negative integer");
}

Result<uint8_t> CompileType(const json& value, const std::string& pointer) {
  auto one = [&](const json& name) -> Result<uint8_t> {
    if (name.is_string()) {
      for (const auto& [text, bits] : kTypeNames) {
        if (name.get<std::string>() == text) return bits;
      }
    }
    return SchemaError(pointer, "unknown type " + name.dump());
  };
  if (!value.is_array()) return one(value);
  uint8_t bits = 0;
  for (const json& name : value) {
    auto b = one(name);
    if (!b) return Fail(b.error());
    bits |= *b;
  }
  if (value.empty()) return SchemaError(pointer, "an empty type array allows nothing");
  return bits;
}

Result<void> CompileKeyword(Node& node, const std::string& key, const json& value,
                            const std::string& pointer) {
  const std::string at = Child(pointer, key);
  if (key == "type") {
    auto bits = CompileType(value, at);
    if (!bits) return Fail(bits.error());
    node.types = *bits;
    node.type_text = value.dump();
  } else if (key == "properties" || key == "patternProperties") {
    if (!value.is_object()) return SchemaError(at, "must be an object");
    for (const auto& [name, sub] : value.items()) {
      auto child = CompileNode(sub, Child(at, name));
      if (!child) return Fail(child.error());
      if (key == "properties") {
        node.properties.emplace(name, *child);
        continue;
      }
      try {
        node.pattern_texts.emplace_back(name, std::regex(name, std::regex::ECMAScript));
      } catch (const std::regex_error& e) {
        return SchemaError(Child(at, name), std::string("invalid pattern: ") + e.what());
      }
      node.pattern_nodes.push_back(*child);
    }
  } else if (key == "additionalProperties" || key == "items") {
    if (key == "items" && value.is_array()) {
      node.tuple.emplace();
      for (size_t i = 0; i < value.size(); ++i) {
        auto child = CompileNode(value[i], Child(at, std::to_string(i)));
        if (!child) return Fail(child.error());
        node.tuple->push_back(*child);
      }
      return {};
    }
    auto child = CompileNode(value, at);
    if (!child) return Fail(child.error());
    (key == "items" ? node.items : node.additional) = *child;
  } else if (key == "required") {
    if (!value.is_array()) return SchemaError(at, "must be an array of names");
    for (const json& name : value) {
      if (!name.is_string()) return SchemaError(at, "must be an array of names");
      node.required.push_back(name.get<std::string>());
    }
  } else if (key == "enum") {
    if (!value.is_array()) return SchemaError(at, "must be an array");
    node.enum_values = value;
  } else if (key == "const") {
    node.const_value = value;
  } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
    auto count = Count(value, at);
    if (!count) return Fail(count.error());
    (key == "minItems"    ? node.min_items
     : key == "maxItems"  ? node.max_items
     : key == "minLength" ? node.min_length
                          : node.max_length) = *count;
  } else if (key == "minimum" || key == "maximum") {
    if (!value.is_number()) return SchemaError(at, "must be a number");
    (key == "minimum" ? node.minimum : node.maximum) = value.get<double>();
  } else if (std::find(kAnnotations.begin(), kAnnotations.end(), key) == kAnnotations.end()) {
    return SchemaError(pointer, fmt::format("unsupported keyword '{}'", key));
  }
  return {};
}

Result<std::shared_ptr<const Node>> CompileNode(const json& schema, const std::string& pointer) {
  auto node = std::make_shared<Node>();
  if (schema.is_boolean()) {
    node->constant = schema.get<bool>();
    return std::shared_ptr<const Node>(std::move(node));
  }
  if (!schema.is_object()) return SchemaError(pointer, "a schema must be an object or a boolean");
  for (const auto& [key, value] : schema.items()) {
    REPRISE_TRY(CompileKeyword(*node, key, value, pointer));
  }
  return std::shared_ptr<const Node>(std::move(node));
}

tl::unexpected<Error> Violation(const std::string& pointer, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: {}", Where(pointer), what));
}

Result<void> ValidateNode(const Node& node, const json& value, const std::string& pointer);

Result<void> ValidateObject(const Node& node, const json& value, const std::string& pointer) {
  for (const std::string& name : node.required) {
    if (!value.contains(name)) {
      return Violation(pointer, fmt::format("required property '{}' is missing", name));
    }
  }
  for (const auto& [name, member] : value.items()) {
    const std::string at = Child(pointer, name);
    bool matched = false;
    if (auto it = node.properties.find(name); it != node.properties.end()) {
      matched = true;
      REPRISE_TRY(ValidateNode(*it->second, member, at));
    }
    if (!node.pattern_texts.empty() && name.size() > kMaxPatternSubject) {
      return Violation(pointer, fmt::format("a property name of {} bytes is longer than the {} "
                                            "matched against patternProperties",
                                            name.size(), kMaxPatternSubject));
    }
    for (size_t i = 0; i < node.pattern_texts.size(); ++i) {
      if (std::regex_search(name, node.pattern_texts[i].second)) {
        matched = true;
        REPRISE_TRY(ValidateNode(*node.pattern_nodes[i], member, at));
      }
    }
    if (matched || !node.additional) continue;
    if (node.additional->constant == false) {
      return Violation(pointer, fmt::format("property '{}' is not allowed", name));
    }
    REPRISE_TRY(ValidateNode(*node.additional, member, at));
  }
  return {};
}

Result<void> ValidateArray(const Node& node, const json& value, const std::string& pointer) {
  if (node.min_items && value.size() < *node.min_items) {
    return Violation(
        pointer, fmt::format("{} items, fewer than minItems {}", value.size(), *node.min_items));
  }
  if (node.max_items && value.size() > *node.max_items) {
    return Violation(pointer,
                     fmt::format("{} items, more than maxItems {}", value.size(), *node.max_items));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const Node* item = node.items.get();
    if (node.tuple) item = i < node.tuple->size() ? (*node.tuple)[i].get() : nullptr;
    if (item != nullptr)
      REPRISE_TRY(ValidateNode(*item, value[i], Child(pointer, std::to_string(i))));
  }
  return {};
}

Result<void> ValidateScalar(const Node& node, const json& value, const std::string& pointer) {
  if (value.is_string()) {
    const size_t length = CodePoints(value.get_ref<const std::string&>());
    if (node.min_length && length < *node.min_length) {
      return Violation(
          pointer, fmt::format("{} characters, fewer than minLength {}", length, *node.min_length));
    }
    if (node.max_length && length > *node.max_length) {
      return Violation(
          pointer, fmt::format("{} characters, more than maxLength {}", length, *node.max_length));
    }
  }
  if (value.is_number()) {
    const double number = value.get<double>();
    if (node.minimum && number < *node.minimum) {
      return Violation(pointer,
                       fmt::format("{} is less than minimum {}", value.dump(), *node.minimum));
    }
    if (node.maximum && number > *node.maximum) {
      return Violation(pointer,
                       fmt::format("{} is more than maximum {}", value.dump(), *node.maximum));
    }
  }
  return {};
}

Result<void> ValidateNode(const Node& node, const json& value, const std::string& pointer) {
  if (node.constant) {
    if (*node.constant) return {};
    return Violation(pointer, "no value is allowed here (schema false)");
  }
  if (node.types != 0 && (TypeOf(value) & node.types) == 0) {
    return Violation(pointer, fmt::format("{} is not of type {}", TypeName(value), node.type_text));
  }
  if (node.enum_values && std::find(node.enum_values->begin(), node.enum_values->end(), value) ==
                              node.enum_values->end()) {
    return Violation(pointer,
                     fmt::format("{} is not one of {}", value.dump(), node.enum_values->dump()));
  }
  if (node.const_value && value != *node.const_value) {
    return Violation(pointer, fmt::format("{} is not {}", value.dump(), node.const_value->dump()));
  }
  if (value.is_object()) return ValidateObject(node, value, pointer);
  if (value.is_array()) return ValidateArray(node, value, pointer);
  return ValidateScalar(node, value, pointer);
}

}  // namespace

Result<JsonSchema> JsonSchema::Compile(const json& schema) {
  auto root = CompileNode(schema, "");
  if (!root) return Fail(root.error());
  return JsonSchema(schema, std::move(*root));
}

Result<void> JsonSchema::Validate(const json& value) const {
  return ValidateNode(*root_, value, "");
}

}  // namespace reprise::ai
