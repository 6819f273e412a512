#include "core/config.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(Config, DefaultsWithoutFileOrEnvironment) {
  TempDir dir;
  auto config = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->data_dir, dir.path());
  EXPECT_EQ(config->owner, "local");
  EXPECT_EQ(config->ResolvedCatalogUrl(), "sqlite:" + dir.path() + "/catalog.db");
  EXPECT_EQ(config->ResolvedBlobUrl(), "fs:" + dir.path() + "/blobs");
  EXPECT_TRUE(config->source_file.empty());
}

TEST(Config, FileInDataDirIsReadAndStageParamsKept) {
  TempDir dir;
  WriteFile(dir.Join("reprise.toml"),
            "owner = \"studio\"\n[stages.thumbnail]\nwidth = 480\n[blob]\nurl = \"fs:/x\"\n");
  auto config = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->owner, "studio");
  EXPECT_EQ(config->stages["thumbnail"]["width"], 480);
  EXPECT_EQ(config->ResolvedBlobUrl(), "fs:/x");
  EXPECT_EQ(config->source_file, dir.Join("reprise.toml"));
}

TEST(Config, DataBeatsTheUrlsOfAGivenFileButNotOfItsOwnOrTheEnvironments) {
  TempDir data;
  TempDir elsewhere;
  WriteFile(elsewhere.Join("r.toml"),
            "[catalog]\nurl = \"sqlite:/file/catalog.db\"\n[blob]\nurl = \"fs:/file/blobs\"\n");
  // A file given with --config: --data wins, and says so.
  auto config = LoadConfig({elsewhere.Join("r.toml"), data.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->ResolvedCatalogUrl(), "sqlite:" + data.path() + "/catalog.db");
  EXPECT_EQ(config->ResolvedBlobUrl(), "fs:" + data.path() + "/blobs");
  ASSERT_EQ(config->warnings.size(), 2u);
  EXPECT_NE(config->warnings[0].find("--data " + data.path() + " overrides catalog.url in"),
            std::string::npos)
      << config->warnings[0];
  EXPECT_EQ(config->CatalogUrlOrigin(), "--data");

  // REPRISE_DATA likewise; the environment's URL beats both, and says so.
  auto env =
      LoadConfig({elsewhere.Join("r.toml"),
                  std::nullopt,
                  {{"REPRISE_DATA", data.path()}, {"REPRISE_CATALOG_URL", "sqlite:/env.db"}}});
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(env->ResolvedCatalogUrl(), "sqlite:/env.db");
  EXPECT_EQ(env->CatalogUrlOrigin(), "REPRISE_CATALOG_URL");
  EXPECT_EQ(env->ResolvedBlobUrl(), "fs:" + data.path() + "/blobs");
  ASSERT_EQ(env->warnings.size(), 2u);

  // The data directory's own file: its URLs hold, without a warning.
  WriteFile(data.Join("reprise.toml"), "[blob]\nurl = \"fs:/own/blobs\"\n");
  auto own = LoadConfig({std::nullopt, data.path(), {}});
  ASSERT_TRUE(own) << own.error().ToString();
  EXPECT_EQ(own->ResolvedBlobUrl(), "fs:/own/blobs");
  EXPECT_TRUE(own->warnings.empty());

  // A URL that names the data directory's own place is no conflict.
  WriteFile(elsewhere.Join("same.toml"),
            "[catalog]\nurl = \"sqlite:" + data.path() + "/catalog.db\"\n");
  auto same = LoadConfig({elsewhere.Join("same.toml"), data.path(), {}});
  ASSERT_TRUE(same) << same.error().ToString();
  EXPECT_TRUE(same->warnings.empty()) << same->warnings[0];

  // No data directory given: the file's URLs hold.
  auto plain = LoadConfig({elsewhere.Join("r.toml"), std::nullopt, {}});
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_EQ(plain->ResolvedCatalogUrl(), "sqlite:/file/catalog.db");
  EXPECT_TRUE(plain->warnings.empty());
}

TEST(Config, EnvironmentBeatsFileAndFlagBeatsEnvironment) {
  TempDir dir;
  TempDir other;
  WriteFile(dir.Join("r.toml"),
            "owner = \"file\"\ndata_dir = \"/from/file\"\n"
            "[stages.thumbnail]\nwidth = 480\nquality = 2\n");
  std::map<std::string, std::string> env = {{"REPRISE_OWNER", "env"},
                                            {"REPRISE_DATA", other.path()},
                                            {"REPRISE_STAGES_THUMBNAIL_WIDTH", "640"},
                                            {"REPRISE_STAGES_WAVEFORM_SAMPLES_PER_PIXEL", "256"},
                                            {"REPRISE_STAGES_WAVEFORM_COLOR", "#ff0000"},
                                            {"UNRELATED", "x"}};
  auto config = LoadConfig({dir.Join("r.toml"), std::nullopt, env});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->owner, "env");
  EXPECT_EQ(config->data_dir, other.path());  // env beats the file
  EXPECT_EQ(config->stages["thumbnail"]["width"], 640);
  EXPECT_EQ(config->stages["thumbnail"]["quality"], 2);  // untouched keys stay
  EXPECT_EQ(config->stages["waveform"]["samples_per_pixel"], 256);
  EXPECT_EQ(config->stages["waveform"]["color"], "#ff0000");

  auto flagged = LoadConfig({dir.Join("r.toml"), std::string("/flag"), env});
  ASSERT_TRUE(flagged);
  EXPECT_EQ(flagged->data_dir, "/flag");
}

TEST(Config, ServerTableFromFileAndEnvironment) {
  TempDir dir;
  WriteFile(dir.Join("s.toml"), "[server]\nlisten = \"0.0.0.0:9000\"\nworkers = false\n");
  auto file = LoadConfig({dir.Join("s.toml"), std::nullopt, {}});
  ASSERT_TRUE(file) << file.error().ToString();
  EXPECT_EQ(file->server.listen, "0.0.0.0:9000");
  EXPECT_FALSE(file->server.workers);

  auto env =
      LoadConfig({dir.Join("s.toml"),
                  std::nullopt,
                  {{"REPRISE_SERVER_LISTEN", "127.0.0.1:0"}, {"REPRISE_SERVER_WORKERS", "true"}}});
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(env->server.listen, "127.0.0.1:0");
  EXPECT_TRUE(env->server.workers);

  WriteFile(dir.Join("t.toml"), "[server]\nworkers = \"yes\"\n");
  EXPECT_FALSE(LoadConfig({dir.Join("t.toml"), std::nullopt, {}}));
}

TEST(Config, PipelineStagesFromFileAndEnvironment) {
  TempDir dir;
  WriteFile(dir.Join("p.toml"), "[pipeline]\nstages = [\"probe\", \"hls\"]\n");
  auto file = LoadConfig({dir.Join("p.toml"), std::nullopt, {}});
  ASSERT_TRUE(file) << file.error().ToString();
  EXPECT_EQ(file->pipeline_stages, (std::vector<std::string>{"probe", "hls"}));

  auto env = LoadConfig({dir.Join("p.toml"),
                         std::nullopt,
                         {{"REPRISE_PIPELINE_STAGES", " probe, thumbnail ,,audio"}}});
  ASSERT_TRUE(env) << env.error().ToString();
  EXPECT_EQ(env->pipeline_stages, (std::vector<std::string>{"probe", "thumbnail", "audio"}));

  auto none = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->pipeline_stages.empty()) << "no list: every stage";

  WriteFile(dir.Join("q.toml"), "[pipeline]\nstages = \"probe\"\n");
  EXPECT_FALSE(LoadConfig({dir.Join("q.toml"), std::nullopt, {}}));
  WriteFile(dir.Join("r.toml"), "[pipeline]\nsteps = [\"probe\"]\n");
  EXPECT_FALSE(LoadConfig({dir.Join("r.toml"), std::nullopt, {}}));
}

TEST(Config, MissingExplicitFileIsAnError) {
  TempDir dir;
  auto config = LoadConfig({dir.Join("nope.toml"), std::nullopt, {}});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_NE(config.error().message.find("nope.toml"), std::string::npos);
}

TEST(Config, SyntaxErrorNamesFileAndLine) {
  TempDir dir;
  WriteFile(dir.Join("bad.toml"), "owner = \"x\"\nthis is not toml\n");
  auto config = LoadConfig({dir.Join("bad.toml"), std::nullopt, {}});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(config.error().message.find("bad.toml:2:"), std::string::npos)
      << config.error().message;
}

TEST(Config, UnknownOrMistypedSettingsAreRefused) {
  TempDir dir;
  WriteFile(dir.Join("a.toml"), "colour = \"blue\"\n");
  auto unknown = LoadConfig({dir.Join("a.toml"), std::nullopt, {}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("colour"), std::string::npos);

  WriteFile(dir.Join("b.toml"), "owner = 5\n");
  EXPECT_FALSE(LoadConfig({dir.Join("b.toml"), std::nullopt, {}}));

  auto bad_env = LoadConfig({std::nullopt, dir.path(), {{"REPRISE_STAGES_THUMBNAIL", "1"}}});
  ASSERT_FALSE(bad_env);
  EXPECT_NE(bad_env.error().message.find("REPRISE_STAGES_THUMBNAIL"), std::string::npos);
}

}  // namespace
}  // namespace reprise
