#include "core/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <span>
#include <sstream>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <toml++/toml.h>

extern char** environ;  // NOLINT: POSIX

namespace reprise {
namespace {

nlohmann::json TomlToJson(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = TomlToJson(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& value : *array) out.push_back(TomlToJson(value));
    return out;
  }
  if (const auto* v = node.as_string()) return v->get();
  if (const auto* v = node.as_integer()) return v->get();
  if (const auto* v = node.as_floating_point()) return v->get();
  if (const auto* v = node.as_boolean()) return v->get();
  std::ostringstream text;
  node.visit([&text](const auto& value) {
    if constexpr (toml::is_date<decltype(value)> || toml::is_time<decltype(value)> ||
                  toml::is_date_time<decltype(value)>) {
      text << value;
    }
  });
  return text.str();  // dates and times stay as their TOML text
}

// An environment value read as a TOML scalar; anything that does not parse is a string.
nlohmann::json ParseScalar(const std::string& text) {
  try {
    auto table = toml::parse("v = " + text);
    if (const auto* node = table.get("v"); node != nullptr && !node->is_table()) {
      return TomlToJson(*node);
    }
  } catch (const toml::parse_error&) {
  }
  return text;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Result<std::string> GetString(const nlohmann::json& doc, const char* key,
                              const std::string& where) {
  const auto& value = doc.at(key);
  if (!value.is_string()) {
    return Fail(ErrorCode::kInvalidArgument, where + ": '" + key + "' must be a string");
  }
  return value.get<std::string>();
}

// One setting of a [table]: a number within [min, max] (`real`, `whole` or `big`, which
// must be whole) or a boolean (`flag`: true/false, or 1/0 as the environment gives them).
struct Setting {
  const char* name;
  std::variant<double*, int*, int64_t*, bool*> target;
  double min = 0;
  double max = 0;
};

// Applies `key = value` of [table] through `settings`: kInvalidArgument naming
// "WHERE: TABLE.KEY" for an unknown key, a wrong type or a number out of range.
Result<void> ApplySetting(std::string_view table, const std::string& key,
                          const nlohmann::json& value, std::span<const Setting> settings,
                          const std::string& where) {
  const std::string name = fmt::format("{}: {}.{}", where, table, key);
  auto found = std::find_if(settings.begin(), settings.end(),
                            [&](const Setting& setting) { return key == setting.name; });
  if (found == settings.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: unknown setting {}.{}", where, table, key));
  }
  if (bool* const* flag = std::get_if<bool*>(&found->target)) {
    if (value.is_boolean()) {
      **flag = value.get<bool>();
    } else if (value.is_number_integer() && (value == 0 || value == 1)) {
      **flag = value.get<int>() == 1;
    } else {
      return Fail(ErrorCode::kInvalidArgument, name + " must be true or false");
    }
    return {};
  }
  const bool integer = !std::holds_alternative<double*>(found->target);
  if (!value.is_number() || (integer && !value.is_number_integer())) {
    return Fail(ErrorCode::kInvalidArgument,
                name + " must be " + (integer ? "an integer" : "a number"));
  }
  const double number = value.get<double>();
  if (!(number >= found->min && number <= found->max)) {  // also refuses NaN
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} must be between {} and {}", name, found->min, found->max));
  }
  std::visit(
      [&](auto* field) {
        using Field = std::remove_pointer_t<decltype(field)>;
        if constexpr (std::is_same_v<Field, double>) {
          *field = number;
        } else {
          *field = value.get<Field>();
        }
      },
      found->target);
  return {};
}

// Every key of [table] through `settings`.
Result<void> ApplySettings(std::string_view table, const nlohmann::json& values,
                           std::span<const Setting> settings, const std::string& where) {
  for (const auto& [key, value] : values.items()) {
    REPRISE_TRY(ApplySetting(table, key, value, settings, where));
  }
  return {};
}

constexpr double kDay = 86400;

Result<void> ApplyQueue(const nlohmann::json& table, QueueConfig& queue, const std::string& where) {
  const Setting settings[] = {
      {"concurrency", &queue.concurrency, 0, 1024},
      {"lease_seconds", &queue.lease_seconds, 0.05, kDay},
      {"heartbeat_seconds", &queue.heartbeat_seconds, 0, kDay},
      {"poll_seconds", &queue.poll_seconds, 0.001, 3600},
      {"reserved_live_share", &queue.reserved_live_share, 0, 1},
      {"max_attempts", &queue.max_attempts, 1, 1000},
      {"backoff_base_seconds", &queue.backoff_base_seconds, 0, kDay},
      {"backoff_max_seconds", &queue.backoff_max_seconds, 0, 30 * kDay},
      {"quarantine_after", &queue.quarantine_after, 1, 1000},
      {"grace_seconds", &queue.grace_seconds, 0, kDay},
  };
  return ApplySettings("queue", table, settings, where);
}

Result<void> ApplyImport(const nlohmann::json& table, ImportConfig& import,
                         const std::string& where) {
  const Setting settings[] = {
      {"max_bytes", &import.max_bytes, 0, 9.2e18},
      {"connect_timeout_seconds", &import.connect_timeout_seconds, 0.001, 3600},
      {"timeout_seconds", &import.timeout_seconds, 0.001, kDay},
      {"concurrency", &import.concurrency, 1, 256},
      {"max_attempts", &import.max_attempts, 1, 100},
      {"backoff_base_seconds", &import.backoff_base_seconds, 0, kDay},
      {"backoff_max_seconds", &import.backoff_max_seconds, 0, 30 * kDay},
      {"allow_private_addresses", &import.allow_private_addresses},
  };
  return ApplySettings("import", table, settings, where);
}

// [webhooks.sources.NAME] tables: secret (or secrets) and owner.
Result<void> ApplyWebhookSources(const nlohmann::json& value, Config& config,
                                 const std::string& where) {
  if (!value.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, where + ": webhooks.sources must hold tables");
  }
  for (const auto& [source, settings] : value.items()) {
    const std::string prefix = where + ": webhooks.sources." + source;
    if (!settings.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, prefix + " must be a table");
    }
    WebhookSourceConfig& out = config.webhook_sources[source];
    for (const auto& [sub, subvalue] : settings.items()) {
      if (sub == "secret" && subvalue.is_string()) {
        out.secrets = {subvalue.get<std::string>()};
      } else if (sub == "secrets" && subvalue.is_array() &&
                 std::all_of(subvalue.begin(), subvalue.end(),
                             [](const nlohmann::json& s) { return s.is_string(); })) {
        out.secrets = subvalue.get<std::vector<std::string>>();
      } else if (sub == "owner" && subvalue.is_string()) {
        out.owner = subvalue.get<std::string>();
      } else {
        return Fail(ErrorCode::kInvalidArgument, prefix + ": unknown or mistyped setting " + sub +
                                                     " (secret, secrets and owner are known)");
      }
    }
  }
  return {};
}

// [services.NAME] tables.
Result<void> ApplyServices(const nlohmann::json& value, Config& config, const std::string& where) {
  if (!value.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, where + ": [services] must hold tables");
  }
  for (const auto& [name, settings] : value.items()) {
    const std::string table = "services." + name;
    if (!settings.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, where + ": [" + table + "] must be a table");
    }
    ServiceSettings& out = config.services[name];
    const Setting numbers[] = {
        {"connect_timeout_seconds", &out.connect_timeout_seconds, 0.001, 3600},
        {"timeout_seconds", &out.timeout_seconds, 0.001, kDay},
        {"max_attempts", &out.max_attempts, 1, 100},
        {"max_concurrent", &out.max_concurrent, 1, 1024},
        {"requests_per_minute", &out.requests_per_minute, 1, 1'000'000},
    };
    for (const auto& [key, setting] : settings.items()) {
      std::string* text = key == "base_url"      ? &out.base_url
                          : key == "api_key_env" ? &out.api_key_env
                                                 : nullptr;
      if (text == nullptr) {
        REPRISE_TRY(ApplySetting(table, key, setting, numbers, where));
      } else if (!setting.is_string()) {
        return Fail(ErrorCode::kInvalidArgument,
                    where + ": " + table + "." + key + " must be a string");
      } else {
        *text = setting.get<std::string>();
      }
    }
  }
  return {};
}

// One [[webhooks.subscriptions]] entry.
Result<WebhookSubscriptionConfig> ParseWebhookSubscription(const nlohmann::json& entry,
                                                           const std::string& where) {
  const std::string name = where + ": webhooks.subscriptions";
  if (!entry.is_object()) return Fail(ErrorCode::kInvalidArgument, name + " holds tables");
  WebhookSubscriptionConfig subscription;
  for (const auto& [key, value] : entry.items()) {
    if (key == "events" && value.is_array() &&
        std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); })) {
      subscription.events = value.get<std::vector<std::string>>();
      continue;
    }
    std::string* field = key == "url"           ? &subscription.url
                         : key == "secret"      ? &subscription.secret
                         : key == "owner"       ? &subscription.owner
                         : key == "description" ? &subscription.description
                                                : nullptr;
    if (field == nullptr || !value.is_string()) {
      return Fail(ErrorCode::kInvalidArgument, name + ": unknown or mistyped setting '" + key +
                                                   "' (url, secret, events, owner, description)");
    }
    *field = value.get<std::string>();
  }
  if (subscription.url.empty() || subscription.secret.empty() || subscription.events.empty()) {
    return Fail(ErrorCode::kInvalidArgument, name + ": each needs url, secret and events");
  }
  return subscription;
}

// [webhooks]: outgoing delivery settings, [[webhooks.subscriptions]] and the incoming
// [webhooks.sources.NAME].
Result<void> ApplyWebhooks(const nlohmann::json& table, Config& config, const std::string& where) {
  WebhooksConfig& webhooks = config.webhooks;
  for (const auto& [key, value] : table.items()) {
    if (key == "sources") {
      REPRISE_TRY(ApplyWebhookSources(value, config, where));
      continue;
    }
    if (key == "subscriptions") {
      if (!value.is_array()) {
        return Fail(ErrorCode::kInvalidArgument,
                    where + ": webhooks.subscriptions must be an array of tables");
      }
      webhooks.subscriptions.clear();
      for (const auto& entry : value) {
        auto subscription = ParseWebhookSubscription(entry, where);
        if (!subscription) return Fail(subscription.error());
        webhooks.subscriptions.push_back(std::move(*subscription));
      }
      continue;
    }
    const Setting settings[] = {
        {"max_attempts", &webhooks.max_attempts, 1, 100},
        {"backoff_base_seconds", &webhooks.backoff_base_seconds, 0.001, kDay},
        {"backoff_max_seconds", &webhooks.backoff_max_seconds, 0.001, 30 * kDay},
        {"timeout_seconds", &webhooks.timeout_seconds, 0.1, 300},
        {"event_retention_days", &webhooks.event_retention_days, 0, 3650},
        {"allow_private_addresses", &webhooks.allow_private_addresses},
    };
    REPRISE_TRY(ApplySetting("webhooks", key, value, settings, where));
  }
  return {};
}

// [blob]: url, the S3 settings and credentials (strings), path_style, url_expiry_seconds.
Result<void> ApplyBlob(const nlohmann::json& table, Config& config, const std::string& where) {
  BlobConfig& blob = config.blob;
  for (const auto& [key, value] : table.items()) {
    std::string* text = key == "url"                 ? &config.blob_url
                        : key == "access_key_id"     ? &blob.access_key_id
                        : key == "secret_access_key" ? &blob.secret_access_key
                        : key == "session_token"     ? &blob.session_token
                        : key == "endpoint"          ? &blob.endpoint
                        : key == "region"            ? &blob.region
                                                     : nullptr;
    if (text != nullptr) {
      if (!value.is_string()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": blob." + key + " must be a string");
      }
      *text = value.get<std::string>();
      continue;
    }
    bool path_style = false;
    const Setting settings[] = {
        {"url_expiry_seconds", &blob.url_expiry_seconds, 1, 7 * kDay - 60},
        {"path_style", &path_style},
    };
    REPRISE_TRY(ApplySetting("blob", key, value, settings, where));
    if (key == "path_style") blob.path_style = path_style;
  }
  return {};
}

// Applies one table of settings (from the file or the environment) onto `config`.
// Moves max_running and rate out of a [stages.NAME] table into config.stage_limits (the
// rest are the stage's params).
Result<void> TakeStageLimits(const std::string& stage, nlohmann::json& table, Config& config,
                             const std::string& where) {
  const std::string prefix = where + ": stages." + stage + ".";
  StageLimitsConfig limits = config.stage_limits[stage];
  if (auto it = table.find("max_running"); it != table.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1'000'000) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + "max_running must be a whole number from 0 (no cap) up");
    }
    limits.max_running = it->get<int>();
    table.erase(it);
  }
  if (auto it = table.find("rate"); it != table.end()) {
    if (!it->is_string()) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + "rate must be a string such as \"60/min\" (\"\" for none)");
    }
    limits.rate = {};
    if (!it->get<std::string>().empty()) {
      auto rate = ParseStartRate(it->get<std::string>(), prefix + "rate");
      if (!rate) return Fail(std::move(rate.error()));
      limits.rate = *rate;
    }
    table.erase(it);
  }
  if (limits.max_running == 0 && !limits.rate.limited()) {
    config.stage_limits.erase(stage);
  } else {
    config.stage_limits[stage] = limits;
  }
  return {};
}

Result<void> Apply(const nlohmann::json& doc, Config& config, const std::string& where) {
  for (const auto& [key, value] : doc.items()) {
    if (key == "data_dir") {
      auto v = GetString(doc, "data_dir", where);
      if (!v) return Fail(v.error());
      config.data_dir = *v;
    } else if (key == "owner") {
      auto v = GetString(doc, "owner", where);
      if (!v) return Fail(v.error());
      config.owner = *v;
    } else if (key == "log_level") {
      auto v = GetString(doc, "log_level", where);
      if (!v) return Fail(v.error());
      config.log_level = *v;
    } else if (key == "blob" && value.is_object()) {
      REPRISE_TRY(ApplyBlob(value, config, where));
    } else if (key == "catalog" || key == "blob") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [" + key + "] must be a table");
      }
      for (const auto& [sub, subvalue] : value.items()) {
        if (sub != "url" || !subvalue.is_string()) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": unknown or mistyped setting " + key + "." + sub);
        }
        (key == "catalog" ? config.catalog_url : config.blob_url) = subvalue.get<std::string>();
      }
    } else if (key == "ingest") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [ingest] must be a table");
      }
      for (const auto& [sub, subvalue] : value.items()) {
        if (sub != "max_file_bytes" || !subvalue.is_number_integer() ||
            subvalue.get<int64_t>() < 0) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": unknown or mistyped setting ingest." + sub);
        }
        config.max_ingest_bytes = subvalue.get<int64_t>();
      }
    } else if (key == "services") {
      REPRISE_TRY(ApplyServices(value, config, where));
    } else if (key == "costs") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [costs] must be a table");
      }
      config.costs.update(value, /*merge_objects=*/true);
    } else if (key == "server") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [server] must be a table");
      }
      for (const auto& [sub, subvalue] : value.items()) {
        if (sub == "listen" && subvalue.is_string()) {
          config.server.listen = subvalue.get<std::string>();
        } else if (sub == "workers" && subvalue.is_boolean()) {
          config.server.workers = subvalue.get<bool>();
        } else if (sub == "url_secret" && subvalue.is_string()) {
          config.server.url_secret = subvalue.get<std::string>();
        } else if (sub == "event_heartbeat_seconds" && subvalue.is_number() &&
                   subvalue.get<double>() > 0 && subvalue.get<double>() <= 3600) {
          config.server.event_heartbeat_seconds = subvalue.get<double>();
        } else {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": unknown or mistyped setting server." + sub);
        }
      }
    } else if (key == "pipeline") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [pipeline] must be a table");
      }
      for (const auto& [sub, subvalue] : value.items()) {
        bool strings = subvalue.is_array() &&
                       std::all_of(subvalue.begin(), subvalue.end(),
                                   [](const nlohmann::json& name) { return name.is_string(); });
        if (sub != "stages" || !strings) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": unknown or mistyped setting pipeline." + sub +
                          " (pipeline.stages is a list of stage names)");
        }
        config.pipeline_stages = subvalue.get<std::vector<std::string>>();
      }
    } else if (key == "queue") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [queue] must be a table");
      }
      REPRISE_TRY(ApplyQueue(value, config.queue, where));
    } else if (key == "import") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [import] must be a table");
      }
      REPRISE_TRY(ApplyImport(value, config.import, where));
    } else if (key == "webhooks") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [webhooks] must be a table");
      }
      REPRISE_TRY(ApplyWebhooks(value, config, where));
    } else if (key == "stages") {
      if (!value.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, where + ": [stages] must be a table");
      }
      for (const auto& [stage, params] : value.items()) {
        if (!params.is_object()) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": [stages." + stage + "] must be a table");
        }
        nlohmann::json rest = params;
        REPRISE_TRY(TakeStageLimits(stage, rest, config, where));
        config.stages[stage].update(rest);
      }
    } else {
      return Fail(ErrorCode::kInvalidArgument, where + ": unknown setting '" + key + "'");
    }
  }
  return {};
}

// REPRISE_FOO_BAR=... as the table the file would have held.
Result<nlohmann::json> EnvironmentTable(const std::map<std::string, std::string>& env) {
  nlohmann::json doc = nlohmann::json::object();
  static constexpr std::string_view kPrefix = "REPRISE_";
  for (const auto& [name, value] : env) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string key = Lower(name.substr(kPrefix.size()));
    if (key == "config" || key == "data") continue;  // handled before the file is read
    if (key == "owner" || key == "log_level") {
      doc[key] = value;
    } else if (key == "catalog_url") {
      doc["catalog"]["url"] = value;
    } else if (key == "blob_url") {
      doc["blob"]["url"] = value;
    } else if (key == "blob_path_style" || key == "blob_url_expiry_seconds") {
      doc["blob"][key.substr(5)] = ParseScalar(value);
    } else if (key.rfind("blob_", 0) == 0 && key.size() > 5) {
      doc["blob"][key.substr(5)] = value;  // credentials stay strings, whatever they look like
    } else if (key == "ingest_max_file_bytes") {
      doc["ingest"]["max_file_bytes"] = ParseScalar(value);
    } else if (key == "server_listen") {
      doc["server"]["listen"] = value;
    } else if (key == "server_workers") {
      doc["server"]["workers"] = ParseScalar(value);
    } else if (key == "server_url_secret") {
      doc["server"]["url_secret"] = value;
    } else if (key == "pipeline_stages") {
      nlohmann::json names = nlohmann::json::array();
      for (size_t start = 0; start <= value.size();) {
        size_t comma = std::min(value.find(',', start), value.size());
        std::string stage = value.substr(start, comma - start);
        stage.erase(0, stage.find_first_not_of(" \t"));
        stage.erase(stage.find_last_not_of(" \t") + 1);
        if (!stage.empty()) names.push_back(stage);
        start = comma + 1;
      }
      doc["pipeline"]["stages"] = names;
    } else if (key.rfind("import_", 0) == 0 && key.size() > 7) {
      doc["import"][key.substr(7)] = ParseScalar(value);
    } else if (key == "server_event_heartbeat_seconds") {
      doc["server"]["event_heartbeat_seconds"] = ParseScalar(value);
    } else if (key.rfind("webhooks_", 0) == 0 && key.size() > 9) {
      doc["webhooks"][key.substr(9)] = ParseScalar(value);
    } else if (key.rfind("queue_", 0) == 0 && key.size() > 6) {
      doc["queue"][key.substr(6)] = ParseScalar(value);
    } else if (key.rfind("stages_", 0) == 0) {
      std::string rest = key.substr(7);
      auto split = rest.find('_');
      if (split == std::string::npos || split == 0 || split + 1 == rest.size()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "environment: " + name + " should be REPRISE_STAGES_<STAGE>_<PARAM>");
      }
      doc["stages"][rest.substr(0, split)][rest.substr(split + 1)] = ParseScalar(value);
    }
    // Other REPRISE_* variables belong to tools around reprise (tests, scripts).
  }
  return doc;
}

// The catalog.url / blob.url of a config file gives way to a data directory named on the
// command line or in the environment, unless the file is that directory's own; a URL
// from the environment does not (config.h).
void ResolveUrl(Config& config, std::string& url, std::string& from, const char* what,
                std::string (Config::*resolved)() const, bool file_in_data_dir) {
  bool data_given = config.data_dir_from == "--data" || config.data_dir_from == "REPRISE_DATA";
  if (url.empty() || !data_given) return;
  bool from_env = from.rfind("REPRISE_", 0) == 0;
  if (!from_env && file_in_data_dir) return;
  if (from_env) {
    config.warnings.push_back(fmt::format("{} ({}) is used for the {}; {} {} is not", from, url,
                                          what, config.data_dir_from, config.data_dir));
    return;
  }
  std::string ignored = url;
  url.clear();
  if (ignored == (config.*resolved)()) return;  // the same place either way
  config.warnings.push_back(fmt::format("{} {} overrides {} ({}): the {} is {}",
                                        config.data_dir_from, config.data_dir, from, ignored, what,
                                        (config.*resolved)()));
  from.clear();
}

std::string UrlOrigin(const Config& config, const std::string& from) {
  if (!from.empty()) return from;
  return config.data_dir_from.empty() ? "the default data directory" : config.data_dir_from;
}

}  // namespace

std::string Config::CatalogUrlOrigin() const { return UrlOrigin(*this, catalog_url_from); }

std::string Config::BlobUrlOrigin() const { return UrlOrigin(*this, blob_url_from); }

std::string Config::ResolvedCatalogUrl() const {
  return catalog_url.empty() ? "sqlite:" + data_dir + "/catalog.db" : catalog_url;
}

std::string Config::ResolvedBlobUrl() const {
  return blob_url.empty() ? "fs:" + data_dir + "/blobs" : blob_url;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  auto env_value = [&](const std::string& name) -> std::optional<std::string> {
    auto it = sources.env.find(name);
    if (it == sources.env.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };

  // The data directory decides where the default config file is looked for.
  if (auto data = env_value("REPRISE_DATA")) {
    config.data_dir = *data;
    config.data_dir_from = "REPRISE_DATA";
  }
  if (sources.data_dir) {
    config.data_dir = *sources.data_dir;
    config.data_dir_from = "--data";
  }

  std::optional<std::string> path = sources.config_path;
  if (!path) path = env_value("REPRISE_CONFIG");
  bool explicit_path = path.has_value();
  if (!path) {
    for (const std::string& candidate :
         {std::string("reprise.toml"), config.data_dir + "/reprise.toml"}) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) {
        path = candidate;
        break;
      }
    }
  }
  if (path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec)) {
      if (explicit_path) {
        return Fail(ErrorCode::kNotFound, "config file " + *path + " does not exist");
      }
    } else {
      toml::table table;
      try {
        table = toml::parse_file(*path);
      } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return Fail(ErrorCode::kInvalidArgument, *path + ":" + std::to_string(where.line) + ":" +
                                                     std::to_string(where.column) + ": " +
                                                     std::string(e.description()));
      }
      std::string data_before = config.data_dir;
      REPRISE_TRY(Apply(TomlToJson(table), config, *path));
      config.source_file = *path;
      // The environment and the flag still beat the file for the data directory.
      if (env_value("REPRISE_DATA") || sources.data_dir) {
        config.data_dir = data_before;
      } else if (table.contains("data_dir")) {
        config.data_dir_from = "data_dir in " + *path;
      }
      if (!config.catalog_url.empty()) config.catalog_url_from = "catalog.url in " + *path;
      if (!config.blob_url.empty()) config.blob_url_from = "blob.url in " + *path;
    }
  }

  auto env_table = EnvironmentTable(sources.env);
  if (!env_table) return Fail(env_table.error());
  REPRISE_TRY(Apply(*env_table, config, "environment"));
  if (env_value("REPRISE_CATALOG_URL")) config.catalog_url_from = "REPRISE_CATALOG_URL";
  if (env_value("REPRISE_BLOB_URL")) config.blob_url_from = "REPRISE_BLOB_URL";
  const bool file_in_data_dir = path && *path == config.data_dir + "/reprise.toml";
  ResolveUrl(config, config.catalog_url, config.catalog_url_from, "catalog",
             &Config::ResolvedCatalogUrl, file_in_data_dir);
  ResolveUrl(config, config.blob_url, config.blob_url_from, "blob store", &Config::ResolvedBlobUrl,
             file_in_data_dir);
  for (auto& [name, service] : config.services) {
    if (service.base_url.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "services." + name + ".base_url is not set");
    }
    if (!service.api_key_env.empty()) service.api_key = env_value(service.api_key_env).value_or("");
  }
  // Checked once everything is applied: the file may set one and the environment the other.
  if (config.queue.backoff_max_seconds < config.queue.backoff_base_seconds) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue.backoff_max_seconds is below queue.backoff_base_seconds");
  }
  return config;
}

}  // namespace reprise
