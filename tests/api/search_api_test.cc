// GET /api/v1/search on real recorded speech transcribed by the local PocketSphinx
// backend, on every API backend: a word the recognizer heard is found with the time it
// was said (the segment holding it), only with a token of the asset's owner.
#include <httplib.h>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io.h"
#include "tests/api/api_fixture.h"
#include "tests/support/spoken_clip.h"
#include "tests/support/test_support.h"

namespace reprise::testing {
namespace {

using nlohmann::json;

class SearchApiTest : public ApiTest {
 protected:
  SearchApiTest() : ApiTest(std::vector<std::string>{"transcript"}) {}

  // The transcript.json of the asset's current transcript.
  json Transcript(const std::string& id) {
    auto derivative = api_.app().catalog().GetCurrentDerivative(id, "transcript");
    EXPECT_TRUE(derivative) << derivative.error().ToString();
    if (!derivative) return json();
    for (const auto& blob : derivative->blobs) {
      if (blob.name != "transcript.json") continue;
      auto reader = api_.app().blobs().Open(blob.key);
      EXPECT_TRUE(reader) << reader.error().ToString();
      if (!reader) return json();
      auto text = ReadAll(**reader);
      EXPECT_TRUE(text) << text.error().ToString();
      return text ? json::parse(*text) : json();
    }
    ADD_FAILURE() << "no transcript.json";
    return json();
  }

  TempDir dir_;
};

TEST_P(SearchApiTest, FindsAWordSpokenInAClipWithItsTimeOffsetForItsOwnerOnly) {
  const std::string clip = dir_.Join("spoken.m4a");
  ASSERT_TRUE(MakeSpokenClip(clip));
  auto ids = Ingest({clip}, "a", /*process=*/true);
  ASSERT_EQ(ids.size(), 1u);
  json transcript = Transcript(ids[0]);
  auto spoken = RecognizedWord(transcript);
  ASSERT_TRUE(spoken) << "the recognizer got no reference word right: " << transcript.dump();

  auto response = Get("/api/v1/search?q=" + spoken->word, "tokA");
  ASSERT_TRUE(HasStatus(response, 200));
  json page = JsonOf(response);
  EXPECT_EQ(page["query"], spoken->word);
  EXPECT_EQ(page["next_cursor"], "");
  ASSERT_EQ(page["hits"].size(), 1u) << page.dump(2);
  const json& hit = page["hits"][0];
  EXPECT_EQ(hit["asset_id"], ids[0]);
  EXPECT_EQ(hit["asset_name"], "spoken.m4a");
  EXPECT_EQ(hit["kind"], "transcript");
  EXPECT_EQ(hit["stage"], "transcript");
  EXPECT_TRUE(hit["scene"].is_null());
  EXPECT_LE(hit["start"].get<double>(), spoken->start) << hit.dump();
  EXPECT_GE(hit["end"].get<double>(), spoken->end) << hit.dump();
  EXPECT_GE(hit["start"].get<double>(), 0.9) << "the clip opens with a second of silence";
  bool in_segment = false;
  for (const auto& segment : transcript["segments"]) {
    in_segment |= segment["text"] == hit["text"] && segment["start"] == hit["start"] &&
                  segment["end"] == hit["end"];
  }
  EXPECT_TRUE(in_segment) << hit.dump();

  // Another owner's token finds nothing; the admin finds it; kinds and names filter.
  auto other = Get("/api/v1/search?q=" + spoken->word, "tokB");
  ASSERT_TRUE(HasStatus(other, 200));
  EXPECT_TRUE(JsonOf(other)["hits"].empty());
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=" + spoken->word + "&owner=a", "tokB"), 403));
  EXPECT_EQ(JsonOf(Get("/api/v1/search?q=" + spoken->word))["hits"].size(), 1u);
  EXPECT_TRUE(JsonOf(Get("/api/v1/search?q=" + spoken->word + "&kind=tag,summary", "tokA"))["hits"]
                  .empty());
  EXPECT_EQ(JsonOf(Get("/api/v1/search?q=SPOKEN&kind=name", "tokA"))["hits"].size(), 1u);

  // Bad requests.
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=", "tokA"), 400));
  EXPECT_TRUE(HasStatus(Get("/api/v1/search", "tokA"), 400));
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=%20%20", "tokA"), 400));
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=x&limit=101", "tokA"), 400));
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=x&cursor=zz", "tokA"), 400));
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=x&qq=1", "tokA"), 400));
  // Hostile text is words, never syntax.
  EXPECT_TRUE(HasStatus(Get("/api/v1/search?q=%22%29%28%2A%20OR%20NEAR%28", "tokA"), 200));
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchApiTest, ::testing::ValuesIn(ApiBackends()),
                         ApiBackendName);

}  // namespace
}  // namespace reprise::testing
