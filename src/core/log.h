// Logging: spdlog loggers are created here and passed down through constructors (no
// global default logger is used by library code). Logs go to stderr so stdout stays
// clean for --json output.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/logger.h>

#include "core/error.h"

namespace reprise {

using Logger = std::shared_ptr<spdlog::logger>;

// level: trace, debug, info, warn, error, off. kInvalidArgument on anything else.
Result<Logger> MakeStderrLogger(std::string_view level);
// A logger that drops everything (tests, quiet commands).
Logger MakeNullLogger();

}  // namespace reprise
