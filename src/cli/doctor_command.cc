#include "cli/doctor_command.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ai/service_directory.h"
#include "app/app.h"
#include "app/backends/builtin_backends.h"
#include "app/backends/migrations.h"
#include "blob/blob_store.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "stages/registry.h"
#include "stages/stage_services.h"

namespace reprise::cli {
namespace {

enum class Verdict { kOk, kWarning, kFailed };

std::string_view Name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kWarning:
      return "warning";
    case Verdict::kFailed:
      return "failed";
  }
  return "failed";
}

struct Check {
  std::string name;
  Verdict verdict = Verdict::kOk;
  std::string detail;
  nlohmann::json facts = nlohmann::json::object();
};

// The registry the config makes, with the services its stages call; `uses` gets, per
// service, the models stages ask it for.
Check CheckStages(const Config& config, const ai::ServiceDirectory* directory,
                  std::map<std::string, std::vector<std::string>>& uses) {
  Check check{"stages", Verdict::kOk, "", {}};
  static const SystemClock clock;
  stages::Registry registry;
  if (auto filled = app::FillRegistry(registry, config.stages, config.pipeline_stages,
                                      stages::StageServices(clock, directory));
      !filled) {
    check.verdict = Verdict::kFailed;
    check.detail = filled.error().message;
    return check;
  }
  std::vector<std::string> names;
  for (const auto* stage : registry.All()) {
    names.emplace_back(stage->Name());
    for (const auto& use : stage->Services()) {
      auto& models = uses[use.service];
      for (const auto& model : use.models) {
        if (std::find(models.begin(), models.end(), model) == models.end()) {
          models.push_back(model);
        }
      }
    }
  }
  check.detail = fmt::format("{} stage(s): {}", names.size(), fmt::join(names, ", "));
  check.facts["stages"] = names;
  return check;
}

Check CheckCatalog(const Config& config) {
  Check check{"catalog", Verdict::kOk, "", {}};
  auto status = app::ReadMigrationStatus(config);
  if (!status) {
    check.verdict = Verdict::kFailed;
    check.detail = status.error().message;
    return check;
  }
  check.facts = {
      {"catalog", status->catalog}, {"version", status->current}, {"latest", status->latest}};
  check.detail =
      fmt::format("{}: schema version {} of {}", status->catalog, status->current, status->latest);
  if (status->current < status->latest) {
    check.verdict = Verdict::kWarning;
    check.detail += " (`reprise migrate up`, or any command that opens it, moves it up)";
  } else if (status->current > status->latest) {
    check.verdict = Verdict::kFailed;
    check.detail += " (written by a newer reprise)";
  }
  return check;
}

Check CheckBlobStore(const Config& config) {
  Check check{"blob store", Verdict::kOk, "", {}};
  auto store = app::BuiltinBackends().OpenBlobStore(config.ResolvedBlobUrl(), /*create=*/false,
                                                    config.BlobUrlOrigin(), config.blob);
  if (!store) {
    check.verdict = Verdict::kFailed;
    check.detail = store.error().message;
    return check;
  }
  check.facts["blob_store"] = (*store)->Describe();
  if (auto probed = blob::CheckReadWrite(**store, "health/doctor"); !probed) {
    check.verdict = Verdict::kFailed;
    check.detail = (*store)->Describe() + ": " + probed.error().message;
    return check;
  }
  check.detail = (*store)->Describe() + ": a write read back and removed";
  return check;
}

std::vector<Check> CheckServices(const ai::ServiceDirectory& directory,
                                 const std::map<std::string, std::vector<std::string>>& uses) {
  std::vector<Check> checks;
  for (const auto& name : directory.Names()) {
    auto used = uses.find(name);
    ai::ServiceHealth health = ai::CheckService(
        directory, name, used == uses.end() ? std::vector<std::string>{} : used->second);
    Check check{"service " + name, Verdict::kOk, health.base_url, {}};
    check.facts = {{"service", name},
                   {"base_url", health.base_url},
                   {"reachable", health.reachable},
                   {"latency_ms", health.latency_ms},
                   {"models", health.models},
                   {"models_listed", health.models_listed},
                   {"key_missing", health.key_missing},
                   {"needed_models", health.needed}};
    if (health.reachable && health.models_listed) {
      check.detail +=
          fmt::format(": {} model(s) in {:.0f} ms", health.models.size(), health.latency_ms);
    } else if (health.reachable) {
      check.verdict = Verdict::kWarning;
      check.detail += ": answered, but has no models list (" + health.error->message + ")";
    } else {
      check.verdict = Verdict::kFailed;
      check.detail += ": " + (health.error ? health.error->ToString() : std::string("no answer"));
    }
    // A model a stage asks for that the service's list lacks: every call would fail.
    if (health.models_listed) {
      for (const auto& [model, present] : health.needed) {
        if (present) continue;
        check.verdict = Verdict::kFailed;
        check.detail += "; model " + model + " (a stage uses it) is not served";
      }
    }
    if (health.key_missing) {
      if (check.verdict == Verdict::kOk) check.verdict = Verdict::kWarning;
      const ServiceSettings* settings = directory.Settings(name);
      check.detail += "; its key variable " + settings->api_key_env + " is not set";
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace

CLI::App* AddDoctorCommand(CLI::App& cli, DoctorFlags& flags) {
  CLI::App* doctor = cli.add_subcommand(
      "doctor", "Check the config, catalog, blob store and configured services before work");
  doctor->add_flag("--json", flags.json, "Print JSON");
  return doctor;
}

int RunDoctor(const Config& config, const DoctorFlags& flags) {
  std::vector<Check> checks;
  static const SystemClock clock;
  auto directory = ai::ServiceDirectory::Create(config.services, clock);
  std::map<std::string, std::vector<std::string>> uses;
  checks.push_back(CheckStages(config, directory ? directory->get() : nullptr, uses));
  checks.push_back(CheckCatalog(config));
  checks.push_back(CheckBlobStore(config));
  if (!directory) {
    checks.push_back({"services", Verdict::kFailed, directory.error().message, {}});
  } else {
    for (auto& check : CheckServices(**directory, uses)) checks.push_back(std::move(check));
  }
  bool failed = false;
  for (const auto& check : checks) failed |= check.verdict == Verdict::kFailed;
  if (flags.json) {
    nlohmann::json doc = {{"ok", !failed}, {"checks", nlohmann::json::array()}};
    for (const auto& check : checks) {
      doc["checks"].push_back({{"check", check.name},
                               {"status", Name(check.verdict)},
                               {"detail", check.detail},
                               {"facts", check.facts}});
    }
    PrintJson(doc);
  } else {
    Table table({"CHECK", "STATUS", "DETAIL"});
    for (const auto& check : checks) {
      table.AddRow({check.name, std::string(Name(check.verdict)), check.detail});
    }
    table.Print(stdout);
    if (config.services.empty()) fmt::print("No [services.NAME] configured.\n");
  }
  return failed ? kExitFailures : kExitOk;
}

}  // namespace reprise::cli
