// BackendRegistry: URL schemes to openers, plain paths, the error for an unknown scheme;
// and the backends this build registers (BuiltinBackends) on real files: "sqlite:PATH"
// and a plain path reach the same catalog, "fs:DIR" and a plain directory the same store.
#include "app/backend_registry.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/backends/builtin_backends.h"
#include "blob/blob_store_wrapper.h"
#include "tests/support/test_support.h"

namespace reprise::app {
namespace {

using reprise::testing::TempDir;

BackendTarget Parsed(const std::string& url, const std::string& plain = "sqlite") {
  auto target = BackendRegistry::ParseTarget(url, plain, "catalog");
  EXPECT_TRUE(target) << url << ": " << target.error().ToString();
  return target.value_or(BackendTarget{});
}

TEST(BackendRegistry, SplitsTheSchemeAndTakesPlainPathsAsTheirDefault) {
  EXPECT_EQ(Parsed("sqlite:/srv/catalog.db").scheme, "sqlite");
  EXPECT_EQ(Parsed("sqlite:/srv/catalog.db").location, "/srv/catalog.db");
  EXPECT_EQ(Parsed("SQLite:x.db").scheme, "sqlite") << "schemes ignore case";
  BackendTarget postgres = Parsed("postgresql://user@127.0.0.1:5432/db");
  EXPECT_EQ(postgres.scheme, "postgresql");
  EXPECT_EQ(postgres.location, "//user@127.0.0.1:5432/db");
  EXPECT_EQ(postgres.url, "postgresql://user@127.0.0.1:5432/db");
  for (const std::string plain : {"/srv/catalog.db", "./data/catalog.db", "catalog.db",
                                  "../a:b/catalog.db", "1x:catalog.db"}) {
    BackendTarget target = Parsed(plain);
    EXPECT_EQ(target.scheme, "sqlite") << plain;
    EXPECT_EQ(target.location, plain);
  }
  auto no_default = BackendRegistry::ParseTarget("/srv/catalog.db", "", "catalog");
  ASSERT_FALSE(no_default);
  EXPECT_NE(no_default.error().message.find("has no scheme"), std::string::npos);
  auto empty = BackendRegistry::ParseTarget("", "sqlite", "catalog");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

// A store that only says where it was asked to be.
class NamedStore final : public blob::BlobStoreWrapper {
 public:
  NamedStore(blob::BlobStore& target, std::string name)
      : BlobStoreWrapper(target), name_(std::move(name)) {}
  std::string Describe() const override { return name_; }

 private:
  std::string name_;
};

TEST(BackendRegistry, CallsTheOpenerOfTheSchemeWithTheWholeTarget) {
  TempDir dir;
  auto real = BuiltinBackends().OpenBlobStore(dir.Join("blobs"), true, "test");
  ASSERT_TRUE(real) << real.error().ToString();
  BackendRegistry registry;
  std::vector<BackendTarget> seen;
  registry.AddBlobStore("mem", [&](const BackendTarget& target) {
    seen.push_back(target);
    return Result<std::unique_ptr<blob::BlobStore>>(std::make_unique<NamedStore>(**real, "first"));
  });
  registry.AddBlobStore("MEM", [&](const BackendTarget& target) {
    seen.push_back(target);
    return Result<std::unique_ptr<blob::BlobStore>>(std::make_unique<NamedStore>(**real, "second"));
  });
  auto opened = registry.OpenBlobStore("mem://bucket/prefix", false, "REPRISE_BLOB_URL");
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ((*opened)->Describe(), "second") << "a later registration replaces the earlier";
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].location, "//bucket/prefix");
  EXPECT_FALSE(seen[0].create);
  EXPECT_EQ(seen[0].origin, "REPRISE_BLOB_URL");
  EXPECT_EQ(registry.BlobStoreSchemes(), (std::vector<std::string>{"mem"}));
}

TEST(BackendRegistry, AnUnknownSchemeNamesTheURLAndTheKnownSchemes) {
  BackendRegistry registry = BuiltinBackends();
  FakeClock clock;
  auto catalog = registry.OpenCatalog("mysql://db/reprise", clock, true, "catalog.url");
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().code, ErrorCode::kInvalidArgument);
  const std::string& message = catalog.error().message;
  EXPECT_NE(message.find("'mysql'"), std::string::npos) << message;
  EXPECT_NE(message.find("mysql://db/reprise"), std::string::npos) << message;
  EXPECT_NE(message.find("sqlite:"), std::string::npos) << message;
  auto blobs = registry.OpenBlobStore("gs://bucket", true, "blob.url");
  ASSERT_FALSE(blobs);
  EXPECT_NE(blobs.error().message.find("fs:"), std::string::npos) << blobs.error().message;
  EXPECT_EQ(registry.CatalogSchemes(),
            (std::vector<std::string>{"postgres", "postgresql", "sqlite"}));
  EXPECT_EQ(registry.BlobStoreSchemes(), (std::vector<std::string>{"fs", "s3"}));
}

TEST(BuiltinBackends, SqliteUrlsAndPlainPathsReachTheSameCatalog) {
  TempDir dir;
  FakeClock clock;
  BackendRegistry registry = BuiltinBackends();
  const std::string path = dir.Join("nested/folder/catalog.db");
  {
    auto created = registry.OpenCatalog("sqlite:" + path, clock, true, "test");
    ASSERT_TRUE(created) << created.error().ToString();
    catalog::NewAsset asset;
    asset.id = "a1";
    asset.owner = "o";
    ASSERT_TRUE((*created)->InsertAsset(asset));
  }
  auto plain = registry.OpenCatalog(path, clock, false, "test");
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_TRUE((*plain)->GetAsset("a1", {})) << "the same file";
  EXPECT_EQ((*plain)->Describe(), "sqlite:" + path);

  auto missing = registry.OpenCatalog(dir.Join("elsewhere.db"), clock, false, "--data");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("set by --data"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.Join("elsewhere.db"))) << "nothing created";
}

TEST(BuiltinBackends, FsUrlsAndPlainDirectoriesReachTheSameStore) {
  TempDir dir;
  BackendRegistry registry = BuiltinBackends();
  const std::string root = dir.Join("blobs");
  auto created = registry.OpenBlobStore("fs:" + root, true, "test");
  ASSERT_TRUE(created) << created.error().ToString();
  ASSERT_TRUE(blob::PutBytes(**created, "a/b", "bytes"));
  auto plain = registry.OpenBlobStore(root, false, "test");
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_EQ(blob::GetBytes(**plain, "a/b").value_or(""), "bytes");
  auto missing = registry.OpenBlobStore("fs:" + dir.Join("nope"), false, "REPRISE_BLOB_URL");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("REPRISE_BLOB_URL"), std::string::npos);
}

}  // namespace
}  // namespace reprise::app
