// The dry-run estimate of `reprise backfill` against what a real run then takes: the real
// binary, a real catalog and generated media. A paced backfill's estimate must lie
// within ±30% of its real duration (issue 11), and the plan says whose history it is
// built from.
#include <chrono>
#include <cmath>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

constexpr const char* kPipeline = "REPRISE_PIPELINE_STAGES=probe,thumbnail";

class EstimateCliTest : public CliTest {
 protected:
  // Six distinct short videos, ingested: their jobs (probe and thumbnail only, to keep
  // the test short) are queued, nothing has run yet.
  void Ingest() {
    std::string library =
        Library({samples_->H264AacMp4(), samples_->Vp9OpusWebm(), samples_->RotatedPhoneMp4(),
                 samples_->VideoOnlyMp4(), samples_->OddSizeMp4(), samples_->LongMp4()});
    auto ingested = Run({"ingest", library}, {kPipeline});
    ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  }

  static json Stage(const json& plan, const std::string& name) {
    for (const auto& stage : plan["stages"]) {
      if (stage["stage"] == name) return stage;
    }
    ADD_FAILURE() << "no stage " << name << " in " << plan.dump();
    return json();
  }

  // The dry run's estimate, then the wall time of the same backfill run for real.
  std::pair<double, double> EstimateThenRun(const std::vector<std::string>& args,
                                            const std::vector<std::string>& env) {
    std::vector<std::string> dry = {"backfill", "thumbnail", "--all", "--dry-run"};
    dry.insert(dry.end(), args.begin(), args.end());
    json plan = RunJson(dry, 0, env);
    EXPECT_EQ(Stage(plan, "thumbnail")["history"]["source"], "recipe");
    std::vector<std::string> run = {"backfill", "thumbnail", "--all", "--yes"};
    run.insert(run.end(), args.begin(), args.end());
    auto begin = std::chrono::steady_clock::now();
    CommandResult ran = Run(run, env);
    double actual = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    EXPECT_EQ(ran.exit_code, 0) << ran.output;
    return {plan["estimated_seconds"].get<double>(), actual};
  }
};

TEST_F(EstimateCliTest, APacedBackfillTakesWhatItsDryRunEstimatedWithin30Percent) {
  Ingest();
  ASSERT_EQ(Run({"process"}, {kPipeline}).exit_code, 0);
  // A recipe change, and a first backfill that builds the history of the new recipe.
  const std::vector<std::string> bumped = {kPipeline, "REPRISE_STAGES_THUMBNAIL_WIDTH=200"};
  ASSERT_EQ(Run({"backfill", "thumbnail", "--yes"}, bumped).exit_code, 0);

  for (const std::vector<std::string>& pacing :
       {std::vector<std::string>{"--delay", "0.5"}, std::vector<std::string>{"--rate", "2/s"}}) {
    auto [estimate, actual] = EstimateThenRun(pacing, bumped);
    // Six starts: 5 delays of 0.5 s, or 2 at once and then 4 at 2 per second, plus the
    // last job: pacing, not the work, makes the duration.
    EXPECT_GE(actual, 2.0) << pacing[0];
    EXPECT_LE(std::abs(estimate - actual), 0.3 * actual)
        << pacing[0] << " " << pacing[1] << ": estimated " << estimate << " s, took " << actual
        << " s";
  }
}

TEST_F(EstimateCliTest, TheDryRunSaysWhoseHistoryTheEstimateComesFrom) {
  Ingest();
  json none = RunJson({"backfill", "thumbnail", "--dry-run"}, 0, {kPipeline});
  EXPECT_EQ(Stage(none, "thumbnail")["history"],
            json({{"samples", 0}, {"source", "none"}, {"alone", false}}));
  CommandResult text = Run({"backfill", "thumbnail", "--dry-run"}, {kPipeline});
  EXPECT_NE(text.out.find("thumbnail: no past runs"), std::string::npos) << text.out;

  ASSERT_EQ(Run({"process"}, {kPipeline}).exit_code, 0);
  json own = RunJson({"backfill", "thumbnail", "--all", "--dry-run"}, 0, {kPipeline});
  EXPECT_EQ(Stage(own, "thumbnail")["history"]["source"], "recipe");
  EXPECT_EQ(Stage(own, "thumbnail")["history"]["samples"], 6);

  // A recipe change: today's recipe has no runs yet, so the other recipes' runs are used
  // and the plan says so.
  const std::vector<std::string> bumped = {kPipeline, "REPRISE_STAGES_THUMBNAIL_WIDTH=200"};
  json other = RunJson({"backfill", "thumbnail", "--dry-run"}, 0, bumped);
  EXPECT_EQ(Stage(other, "thumbnail")["history"]["source"], "other_recipes");
  EXPECT_EQ(Stage(other, "thumbnail")["history"]["samples"], 6);
  text = Run({"backfill", "thumbnail", "--dry-run"}, bumped);
  EXPECT_NE(text.out.find("thumbnail: 6 past run(s) of other recipes"), std::string::npos)
      << text.out;

  // Once it ran, the new recipe's own runs are used.
  ASSERT_EQ(Run({"backfill", "thumbnail", "--yes", "--limit", "2"}, bumped).exit_code, 0);
  json after = RunJson({"backfill", "thumbnail", "--all", "--dry-run"}, 0, bumped);
  EXPECT_EQ(Stage(after, "thumbnail")["history"]["source"], "recipe");
  EXPECT_EQ(Stage(after, "thumbnail")["history"]["samples"], 2);
  text = Run({"backfill", "thumbnail", "--all", "--dry-run"}, bumped);
  EXPECT_NE(text.out.find("thumbnail: 2 past run(s) of today's recipe"), std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace reprise
