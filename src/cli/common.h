// What every `reprise` command shares: exit codes, error reporting and JSON output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/empty_selection.h"
#include "core/error.h"

namespace reprise::cli {

// 0 all handled; 1 some item failed, was interrupted or is in the wrong state; 2 bad
// usage or unknown id; 3 the catalog or blob store cannot be opened.
constexpr int kExitOk = 0;
constexpr int kExitFailures = 1;
constexpr int kExitUsage = 2;
constexpr int kExitEnvironment = 3;

void PrintJson(const nlohmann::json& doc);
// Prints "reprise: <error>" to stderr and returns the exit code the error means.
int ReportError(const Error& error);
// "1:02.5" since `from_micros` at `now_micros`; "-" when from is unset.
std::string Age(int64_t from_micros, int64_t now_micros);
std::string JoinNames(const std::vector<std::string>& names);
// "<lead>: <cause>." or, for several causes, one per line below the lead.
std::string EmptyCausesText(const std::string& lead,
                            const std::vector<backfill::EmptyCause>& causes);

}  // namespace reprise::cli
