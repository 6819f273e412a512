#include "cli/common.h"

#include <cstdio>

#include <fmt/format.h>

#include "cli/terminal.h"

namespace reprise::cli {

void PrintJson(const nlohmann::json& doc) { fmt::print("{}\n", doc.dump(2)); }

int ReportError(const Error& error) {
  fmt::print(stderr, "reprise: {}\n", error.ToString());
  if (error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kNotFound) {
    return kExitUsage;
  }
  // The request was understood but the item is in the wrong state (a finished job).
  if (error.code == ErrorCode::kConflict) return kExitFailures;
  return kExitEnvironment;
}

std::string Age(int64_t from_micros, int64_t now_micros) {
  if (from_micros <= 0) return "-";
  return HumanSeconds(static_cast<double>(now_micros - from_micros) / 1e6);
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

std::string EmptyCausesText(const std::string& lead,
                            const std::vector<backfill::EmptyCause>& causes) {
  if (causes.empty()) return lead + ".";
  if (causes.size() == 1) return lead + ": " + causes[0].message + ".";
  std::string text = lead + ":";
  for (const auto& cause : causes) text += "\n  " + cause.message;
  return text;
}

}  // namespace reprise::cli
