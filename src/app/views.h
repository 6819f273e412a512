// The JSON view of a `process` run's summary, printed by `process --json` and
// `ingest --process --json`. The views of the other resources live in services/views.h;
// this one moves there with the process service.
#pragma once

#include <nlohmann/json.hpp>

#include "queue/process.h"

namespace reprise::app {

nlohmann::json ProcessSummaryJson(const queue::ProcessSummary& summary);

}  // namespace reprise::app
