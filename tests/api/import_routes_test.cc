// POST /api/v1/assets/import-from-url and GET /api/v1/imports/{id} over real HTTP:
// 202 with the import id, strict bodies, progress to done, owner scoping.
#include <string>

#include <gtest/gtest.h>

#include "tests/api/import_fixture.h"

namespace reprise::testing {
namespace {

using Json = nlohmann::json;

class ImportRoutesTest : public ImportApiTest {};

TEST_F(ImportRoutesTest, AnImportAnswers202AndIsPolledToItsAsset) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  files_.AddFile("clip.mp4", ReadFile(samples_->H264AacMp4()));
  Json body = {{"url", files_.Url("/files/clip.mp4")},
               {"name", "clip.mp4"},
               {"kind", "video"},
               {"metadata", {{"prompt", "red then test pattern"}}}};
  auto posted = api.Client("alice-token")
                    ->Post("/api/v1/assets/import-from-url", body.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202) << posted->body;
  Json answer = JsonOf(posted);
  std::string id = answer["id"];
  EXPECT_EQ(answer["asset_id"], id);
  EXPECT_EQ(answer["import_job_id"], id);
  EXPECT_EQ(answer["status"], "importing");
  EXPECT_EQ(posted->get_header_value("Location"), "/api/v1/imports/" + id);

  auto queued = api.Client("alice-token")->Get("/api/v1/imports/" + id);
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 200) << queued->body;
  EXPECT_EQ(JsonOf(queued)["status"], "queued");
  EXPECT_EQ(JsonOf(queued)["metadata"]["prompt"], "red then test pattern");
  // The id the 202 answered is polled as an asset too (ADR 3): importing until done.
  auto pending = api.Client("alice-token")->Get("/api/v1/assets/" + id);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->status, 200) << pending->body;
  EXPECT_EQ(JsonOf(pending)["status"], "importing");
  EXPECT_EQ(JsonOf(pending)["id"], id);

  StartBackground(api);
  Json done = WaitForStatus(api, "alice-token", "/api/v1/imports/" + id, "done");
  ASSERT_TRUE(done["asset_id"].is_string()) << done.dump();
  EXPECT_EQ(done["bytes"], static_cast<int64_t>(ReadFile(samples_->H264AacMp4()).size()));
  EXPECT_TRUE(done["error"].is_null());

  // Once done, the import id answers the real asset's document, the same as its own id.
  auto by_import = api.Client("alice-token")->Get("/api/v1/assets/" + id);
  auto by_asset =
      api.Client("alice-token")->Get("/api/v1/assets/" + done["asset_id"].get<std::string>());
  ASSERT_TRUE(by_import);
  ASSERT_TRUE(by_asset);
  ASSERT_EQ(by_import->status, 200) << by_import->body;
  Json imported = JsonOf(by_import);
  EXPECT_EQ(imported["asset"]["id"], done["asset_id"]) << imported.dump();
  imported.erase("derivatives");  // signed URLs carry the second they were made
  Json direct = JsonOf(by_asset);
  direct.erase("derivatives");
  EXPECT_EQ(imported, direct);
  // Another owner sees neither.
  auto foreign = api.Client("bob-token")->Get("/api/v1/assets/" + id);
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 404);
}

TEST_F(ImportRoutesTest, ADeadUrlFailsWithTheStatusAndTheUrl) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  Json body = {{"url", files_.Url("/missing")}};
  auto posted = api.Client("alice-token")
                    ->Post("/api/v1/assets/import-from-url", body.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202) << posted->body;
  std::string id = JsonOf(posted)["id"];
  StartBackground(api);
  Json failed = WaitForStatus(api, "alice-token", "/api/v1/imports/" + id, "failed");
  EXPECT_EQ(failed["error"]["code"], "not_found");
  EXPECT_EQ(failed["error"]["message"], "http 404 from " + files_.Url("/missing"));
}

TEST_F(ImportRoutesTest, BadBodiesAreRefusedByName) {
  ApiServer& api = Serve([](Config& config) {
    Configure(config);
    config.import.allow_private_addresses = false;
  });
  ASSERT_TRUE(api.ok());
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  for (const auto& [body, status, says] : std::vector<Case>{
           {R"({"url": "https://example.com/a.mp4", "nmae": "x"})", 400, "nmae"},
           {R"({"url": 5})", 400, "url"},
           {R"({"name": "x"})", 400, "url is required"},
           {R"({"url": "file:///etc/passwd"})", 400, "only http and https"},
           {R"({"url": "http://169.254.169.254/latest/meta-data/"})", 400, "link-local"},
           {R"({"url": "http://127.0.0.1:1/a.mp4"})", 400, "loopback"},
           {R"({"url": "https://example.com/a.mp4", "metadata": [1]})", 400, "metadata"},
           {R"({"url": "https://example.com/a.mp4", "kind": "pdf"})", 400, "kind 'pdf'"},
           {R"({"url": "https://example.com/a.mp4", "parent_id": "aaaaaaaaaaaa"})", 404,
            "parent asset"},
           {R"([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])",
            400, "deep"},
       }) {
    auto response =
        api.Client("alice-token")->Post("/api/v1/assets/import-from-url", body, "application/json");
    ASSERT_TRUE(response) << body;
    EXPECT_EQ(response->status, status) << body << " -> " << response->body;
    EXPECT_NE(response->body.find(says), std::string::npos) << body << " -> " << response->body;
  }
  auto none = api.Client("admin-token")->Get("/api/v1/media/");
  ASSERT_TRUE(none);
  EXPECT_TRUE(JsonOf(none)["assets"].empty()) << none->body;
}

TEST_F(ImportRoutesTest, AnotherOwnersImportIsNotFound) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  Json body = {{"url", "https://example.com/private.mp4"}};
  auto posted = api.Client("alice-token")
                    ->Post("/api/v1/assets/import-from-url", body.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202);
  std::string id = JsonOf(posted)["id"];
  for (const std::string& path : {"/api/v1/imports/" + id, "/api/v1/media/" + id}) {
    auto bob = api.Client("bob-token")->Get(path);
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->status, 404) << path << ": " << bob->body;
    EXPECT_EQ(bob->body.find("private.mp4"), std::string::npos);
    auto alice = api.Client("alice-token")->Get(path);
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->status, 200) << path;
    auto admin = api.Client("admin-token")->Get(path);
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->status, 200) << path;
    auto nobody = api.Client()->Get(path);
    ASSERT_TRUE(nobody);
    EXPECT_EQ(nobody->status, 401) << path;
  }
  auto bobs_list = api.Client("bob-token")->Get("/api/v1/media/");
  ASSERT_TRUE(bobs_list);
  EXPECT_TRUE(JsonOf(bobs_list)["assets"].empty()) << bobs_list->body;
  auto alices_list = api.Client("alice-token")->Get("/api/v1/media/");
  ASSERT_TRUE(alices_list);
  EXPECT_EQ(JsonOf(alices_list)["assets"].size(), 1u) << alices_list->body;

  // An owner cannot import for another; an admin can.
  Json for_alice = {{"url", "https://example.com/b.mp4"}, {"owner", "alice"}};
  auto widened = api.Client("bob-token")
                     ->Post("/api/v1/assets/import-from-url", for_alice.dump(), "application/json");
  ASSERT_TRUE(widened);
  EXPECT_EQ(widened->status, 403) << widened->body;
  auto by_admin =
      api.Client("admin-token")
          ->Post("/api/v1/assets/import-from-url", for_alice.dump(), "application/json");
  ASSERT_TRUE(by_admin);
  EXPECT_EQ(by_admin->status, 202) << by_admin->body;
  EXPECT_EQ(JsonOf(by_admin)["import"]["owner"], "alice");
}

}  // namespace
}  // namespace reprise::testing
