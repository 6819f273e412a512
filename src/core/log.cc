#include "core/log.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/console_sink.h"

namespace reprise {

Result<Logger> MakeStderrLogger(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Fail(ErrorCode::kInvalidArgument, "unknown log level '" + std::string(level) +
                                                 "' (use trace, debug, info, warn, error or off)");
  }
  // Through a ConsoleSink, so a progress bar can keep log lines out of its line.
  auto sink =
      std::make_shared<ConsoleSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("reprise", sink);
  logger->set_level(parsed);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  return logger;
}

Logger MakeNullLogger() {
  return std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace reprise
