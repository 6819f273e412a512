// `reprise assets duplicates` end to end: real fingerprints of generated tunes, the same
// recording as WAV, FLAC, MP3 and with silence in front, an unrelated tune, and a copy
// that belongs to another owner.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

// A melody of sine tones, a new note every quarter second; `step` picks the tune.
std::string Tune(int step) {
  return "aevalsrc=0.5*sin(2*PI*t*220*pow(2\\,mod(floor(t*4)*" + std::to_string(step) +
         "\\,24)/12)):s=44100:d=20";
}

class DuplicatesCliTest : public CliTest {
 protected:
  // Makes `name` from a lavfi graph with extra output arguments.
  std::string Make(const std::string& name, const std::string& graph,
                   const std::vector<std::string>& output_args = {}) {
    std::string dir = input_.Join("made");
    fs::create_directories(dir);
    std::string path = dir + "/" + name;
    std::vector<std::string> args = {"-f", "lavfi", "-i", graph};
    args.insert(args.end(), output_args.begin(), output_args.end());
    args.push_back(path);
    EXPECT_TRUE(testing::Ffmpeg(args));
    return path;
  }

  // The ids of each group's assets, by asset name.
  static std::vector<std::set<std::string>> GroupNames(const json& report) {
    std::vector<std::set<std::string>> groups;
    for (const auto& group : report["groups"]) {
      std::set<std::string> names;
      for (const auto& asset : group["assets"]) names.insert(asset["name"].get<std::string>());
      groups.push_back(names);
    }
    return groups;
  }
};

TEST_F(DuplicatesCliTest, GroupsTheSameRecordingAcrossEncodingsWithinAnOwner) {
  std::string mine = Library(
      {Make("tune.wav", Tune(7)), Make("tune.mp3", Tune(7), {"-b:a", "128k"}),
       Make("tune_late.wav", Tune(7) + ",adelay=500|500"), Make("other_tune.wav", Tune(5))});
  ASSERT_EQ(RunJson({"ingest", mine})["summary"]["added"], 4);
  std::string theirs = input_.Join("theirs");
  fs::create_directories(theirs);
  fs::copy_file(Make("tune.flac", Tune(7)), theirs + "/tune.flac");
  ASSERT_EQ(RunJson({"ingest", "--owner", "someone", theirs})["summary"]["added"], 1);
  json processed = RunJson({"process", "--stage", "fingerprint"});
  ASSERT_EQ(processed["stages"]["fingerprint"]["done"], 5) << processed.dump(2);

  json local = RunJson({"assets", "duplicates", "--owner", "local", "--json"});
  EXPECT_EQ(local["fingerprinted"], 4);
  EXPECT_EQ(GroupNames(local),
            (std::vector<std::set<std::string>>{{"tune.wav", "tune.mp3", "tune_late.wav"}}))
      << local.dump(2);
  for (const auto& pair : local["groups"][0]["pairs"]) {
    EXPECT_GE(pair["similarity"].get<double>(), 0.8) << pair;
  }

  // Every owner: the FLAC copy joins.
  json everyone = RunJson({"assets", "duplicates", "--json"});
  EXPECT_EQ(
      GroupNames(everyone),
      (std::vector<std::set<std::string>>{{"tune.wav", "tune.mp3", "tune_late.wav", "tune.flac"}}));
  // At threshold 1 the shifted copy (its frames align only approximately) drops out.
  json exact = RunJson({"assets", "duplicates", "--threshold", "1", "--json"});
  auto exact_groups = GroupNames(exact);
  ASSERT_EQ(exact_groups.size(), 1u) << exact.dump(2);
  EXPECT_TRUE(exact_groups[0].count("tune.wav") && exact_groups[0].count("tune.flac"))
      << exact.dump(2);
  EXPECT_FALSE(exact_groups[0].count("tune_late.wav")) << exact.dump(2);

  CommandResult text = Run({"assets", "duplicates"});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.out.find("Group 1 (4 assets)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("tune_late.wav"), std::string::npos) << text.out;
  EXPECT_EQ(Run({"assets", "duplicates", "--threshold", "1.5"}).exit_code, 2);
}

TEST_F(DuplicatesCliTest, SaysSoWhenNothingIsFingerprinted) {
  // A reading command needs a catalog (it never creates one); `process` makes it.
  ASSERT_EQ(Run({"process"}).exit_code, 0);
  CommandResult text = Run({"assets", "duplicates"});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.out.find("No asset has a fingerprint"), std::string::npos) << text.out;
  EXPECT_EQ(RunJson({"assets", "duplicates", "--json"})["groups"].size(), 0u);
}

}  // namespace
}  // namespace reprise
