#include "backfill/empty_selection.h"

#include <gtest/gtest.h>

#include "tests/support/library.h"
#include "tests/support/media_suite.h"

namespace reprise::backfill {
namespace {

// On every catalog backend (CatalogBackends()).
class EmptySelectionTest : public testing::MediaSuite,
                           public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override { ASSERT_TRUE(library_.Open(clock_, GetParam())); }

  std::vector<EmptyCause> Explain(const Selection& selection, const std::string& scope = "") {
    auto causes = ExplainEmptySelection(library_.catalog(), selection, scope);
    EXPECT_TRUE(causes.has_value()) << (causes ? "" : causes.error().ToString());
    return causes ? *causes : std::vector<EmptyCause>{};
  }

  SystemClock clock_;
  testing::LocalLibrary library_;
};

INSTANTIATE_TEST_SUITE_P(Backends, EmptySelectionTest,
                         ::testing::ValuesIn(catalog::CatalogBackends()), catalog::BackendName);

TEST_P(EmptySelectionTest, NamesTheOneFilterWithoutWhichAssetsWouldBeSelected) {
  library_.Ingest(samples_->Wav(), "alice");
  library_.Ingest(samples_->Mp3(), "bob");
  library_.Ingest(samples_->H264AacMp4(), "bob");

  Selection owner;
  owner.owner = "bobb";
  owner.kind = "audio";
  auto causes = Explain(owner);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].filter, "--owner");
  EXPECT_EQ(causes[0].present, (std::map<std::string, int64_t>{{"alice", 1}, {"bob", 1}}))
      << "owners among the audio assets";
  EXPECT_EQ(causes[0].message, "owner bobb has no assets here (owners: alice 1, bob 1)");

  Selection status;
  status.status = "failed";
  causes = Explain(status);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].filter, "--status");
  EXPECT_EQ(causes[0].present, (std::map<std::string, int64_t>{{"pending", 3}}));
  EXPECT_NE(causes[0].message.find("--failed"), std::string::npos) << causes[0].message;

  // Each filter selects something, but not together: no single one is to blame.
  Selection together;
  together.owner = "alice";
  together.kind = "video";
  causes = Explain(together);
  ASSERT_EQ(causes.size(), 2u) << "each alone selects assets; dropping either helps";
  Selection three = together;
  three.status = "pending";
  ASSERT_EQ(Explain(three).size(), 2u);

  // A selection that is not empty has no cause; a scoped caller never hears of others.
  Selection bob;
  bob.owner = "bob";
  EXPECT_TRUE(Explain(bob).empty());
  Selection video;
  video.kind = "image";
  causes = Explain(video, "alice");
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].filter, "--kind");
  EXPECT_EQ(causes[0].present, (std::map<std::string, int64_t>{{"audio", 1}}));
}

TEST_P(EmptySelectionTest, AnEmptyCatalogSaysSo) {
  Selection owner;
  owner.owner = "alice";
  auto causes = Explain(owner);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].filter, "");
  EXPECT_NE(causes[0].message.find("no assets yet"), std::string::npos) << causes[0].message;
}

}  // namespace
}  // namespace reprise::backfill
