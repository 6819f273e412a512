#include "catalog/codec.h"
#include "core/json_text.h"

namespace reprise::catalog {

using nlohmann::json;

std::string DumpJson(const json& value) { return JsonText(value); }

Result<json> ParseJson(std::string_view text, std::string_view column) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Fail(ErrorCode::kInternal, "corrupt JSON in column " + std::string(column));
  }
  return value;
}

std::string BlobsToJson(const std::vector<OutputBlob>& blobs) {
  json array = json::array();
  for (const auto& blob : blobs) {
    array.push_back({{"name", blob.name},
                     {"key", blob.key},
                     {"size", blob.size},
                     {"content_type", blob.content_type}});
  }
  return DumpJson(array);
}

Result<std::vector<OutputBlob>> BlobsFromJson(std::string_view text) {
  auto parsed = ParseJson(text, "derivatives.blobs");
  if (!parsed) return Fail(std::move(parsed.error()));
  std::vector<OutputBlob> blobs;
  try {
    for (const auto& item : parsed->get_ref<const json::array_t&>()) {
      OutputBlob blob;
      blob.name = item.at("name").get<std::string>();
      blob.key = item.at("key").get<std::string>();
      blob.size = item.at("size").get<int64_t>();
      blob.content_type = item.at("content_type").get<std::string>();
      blobs.push_back(std::move(blob));
    }
  } catch (const json::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("malformed derivatives.blobs: ") + e.what());
  }
  return blobs;
}

std::string RefsToJson(const std::map<std::string, std::string>& refs) {
  return DumpJson(json(refs));
}

Result<std::map<std::string, std::string>> RefsFromJson(std::string_view text) {
  auto parsed = ParseJson(text, "assets.refs");
  if (!parsed) return Fail(std::move(parsed.error()));
  try {
    return parsed->get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("malformed assets.refs: ") + e.what());
  }
}

json StagesJson(const std::vector<StageRecipe>& stages) {
  json doc = json::array();
  for (const auto& stage : stages) doc.push_back({stage.stage, stage.recipe});
  return doc;
}

Result<std::vector<StageRecipe>> StagesFromJson(std::string_view text) {
  auto parsed = ParseJson(text, "backfills.stages");
  if (!parsed) return Fail(std::move(parsed.error()));
  if (!parsed->is_array()) return Fail(ErrorCode::kInternal, "malformed backfills.stages");
  std::vector<StageRecipe> stages;
  for (const auto& pair : *parsed) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return Fail(ErrorCode::kInternal, "malformed backfills.stages");
    }
    stages.push_back({pair[0].get<std::string>(), pair[1].get<std::string>()});
  }
  return stages;
}

Result<std::vector<std::string>> EventTypesFromJson(std::string_view text) {
  auto parsed = ParseJson(text, "webhook_subscriptions.events");
  if (!parsed) return Fail(std::move(parsed.error()));
  if (!parsed->is_array()) {
    return Fail(ErrorCode::kInternal, "malformed webhook_subscriptions.events");
  }
  std::vector<std::string> types;
  for (const auto& type : *parsed) {
    if (type.is_string()) types.push_back(type.get<std::string>());
  }
  return types;
}

std::pair<std::string, std::string> ErrorColumns(const std::optional<Error>& error) {
  if (!error) return {};
  std::string message = error->message;
  if (!error->origin.empty()) message += " (" + error->origin + ")";
  return {std::string(ErrorCodeName(error->code)), std::move(message)};
}

Result<DeliveryState> ParseDeliveryState(std::string_view text) {
  for (auto state : {DeliveryState::kPending, DeliveryState::kSucceeded, DeliveryState::kFailed}) {
    if (Name(state) == text) return state;
  }
  return Fail(ErrorCode::kInternal, "unknown delivery state '" + std::string(text) + "'");
}

}  // namespace reprise::catalog
