// [stages.NAME] max_running and rate: global stage limits, kept apart from stage params,
// from the file and the environment; and the rate's text form.
#include <string>

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/start_rate.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kSecond = 1'000'000;

TEST(StartRate, ReadsStartsPerSecondMinuteOrHourAndPrintsThemBack) {
  EXPECT_EQ(ParseStartRate("60/min", "rate").value(), (StartRate{60, 60 * kSecond}));
  EXPECT_EQ(ParseStartRate("5/s", "rate").value(), (StartRate{5, kSecond}));
  EXPECT_EQ(ParseStartRate("100/h", "rate").value(), (StartRate{100, 3600 * kSecond}));
  EXPECT_EQ(ParseStartRate("3/m", "rate").value(), (StartRate{3, 60 * kSecond}));
  EXPECT_EQ(FormatStartRate({60, 60 * kSecond}), "60/min");
  EXPECT_EQ(FormatStartRate({5, kSecond}), "5/s");
  EXPECT_EQ(FormatStartRate({}), "");
  for (const char* bad : {"60", "0/min", "-1/s", "1.5/s", "5/day", "x/s", "/s", "5/"}) {
    auto parsed = ParseStartRate(bad, "stages.x.rate");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("stages.x.rate"), std::string::npos);
  }
}

TEST(ConfigStageLimits, ComeFromTheFileAndTheEnvironmentAndLeaveTheParamsAlone) {
  TempDir dir;
  WriteFile(dir.Join("reprise.toml"),
            "[stages.thumbnail]\nwidth = 480\nmax_running = 3\nrate = \"60/min\"\n"
            "[stages.probe]\nmax_running = 1\n");
  auto config = LoadConfig(
      {std::nullopt,
       dir.path(),
       {{"REPRISE_STAGES_PROBE_MAX_RUNNING", "0"}, {"REPRISE_STAGES_WAVEFORM_RATE", "5/s"}}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->stages["thumbnail"], (nlohmann::json{{"width", 480}}))
      << "limits are not params: they change no recipe";
  ASSERT_EQ(config->stage_limits.count("thumbnail"), 1u);
  EXPECT_EQ(config->stage_limits["thumbnail"].max_running, 3);
  EXPECT_EQ(config->stage_limits["thumbnail"].rate, (StartRate{60, 60 * kSecond}));
  EXPECT_EQ(config->stage_limits.count("probe"), 0u) << "the environment lifted the cap";
  EXPECT_EQ(config->stage_limits["waveform"].rate, (StartRate{5, kSecond}));
}

TEST(ConfigStageLimits, ABadLimitIsAnErrorNamingTheSetting) {
  TempDir dir;
  for (const char* table :
       {"[stages.thumbnail]\nmax_running = -1\n", "[stages.thumbnail]\nmax_running = \"3\"\n",
        "[stages.thumbnail]\nrate = 60\n", "[stages.thumbnail]\nrate = \"60/fortnight\"\n"}) {
    WriteFile(dir.Join("reprise.toml"), table);
    auto config = LoadConfig({std::nullopt, dir.path(), {}});
    ASSERT_FALSE(config) << table;
    EXPECT_NE(config.error().message.find("stages.thumbnail."), std::string::npos)
        << config.error().message;
  }
}

}  // namespace
}  // namespace reprise
