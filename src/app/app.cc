#include "app/app.h"

#include <filesystem>

#include "blob/fs/fs_blob_store.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "media/ffmpeg.h"
#include "stages/builtin.h"

namespace reprise::app {
namespace {

// "scheme:rest" -> {scheme, rest}; no scheme is an error so typos are caught.
Result<std::pair<std::string, std::string>> SplitUrl(const std::string& url, const char* what) {
  auto colon = url.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what) + " URL '" + url + "' has no scheme (e.g. sqlite:PATH)");
  }
  return std::make_pair(url.substr(0, colon), url.substr(colon + 1));
}

Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(const std::string& url, const Clock& clock) {
  auto parts = SplitUrl(url, "catalog");
  if (!parts) return Fail(parts.error());
  if (parts->first == "sqlite") {
    std::error_code ec;
    auto parent = std::filesystem::path(parts->second).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    return catalog::SqliteCatalog::Open(parts->second, clock);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unknown catalog scheme '" + parts->first + "' (supported: sqlite)");
}

Result<std::unique_ptr<blob::BlobStore>> OpenBlobStore(const std::string& url) {
  auto parts = SplitUrl(url, "blob store");
  if (!parts) return Fail(parts.error());
  if (parts->first == "fs") return blob::FsBlobStore::Open(parts->second);
  return Fail(ErrorCode::kInvalidArgument,
              "unknown blob store scheme '" + parts->first + "' (supported: fs)");
}

}  // namespace

Result<void> FillRegistry(stages::Registry& registry, const nlohmann::json& stage_config) {
  REPRISE_TRY(stages::AddBuiltinStages(registry, stage_config));
  return registry.Seal();
}

Result<std::unique_ptr<App>> App::Open(const Config& config, Logger log) {
  media::InitFfmpeg();
  std::unique_ptr<App> app(new App(config, std::move(log)));
  REPRISE_TRY(FillRegistry(app->registry_, config.stages));

  auto catalog = OpenCatalog(config.ResolvedCatalogUrl(), app->clock_);
  if (!catalog) return Fail(catalog.error().Wrap("cannot open catalog"));
  app->catalog_ = std::move(*catalog);
  auto blobs = OpenBlobStore(config.ResolvedBlobUrl());
  if (!blobs) return Fail(blobs.error().Wrap("cannot open blob store"));
  app->blobs_ = std::move(*blobs);

  app->ingestor_ =
      std::make_unique<ingest::Ingestor>(*app->catalog_, *app->blobs_, app->clock_, app->log_);
  app->executor_ = std::make_unique<queue::Executor>(*app->catalog_, *app->blobs_, app->registry_,
                                                     app->clock_, app->log_);
  app->processor_ = std::make_unique<queue::Processor>(*app->catalog_, *app->executor_,
                                                       app->registry_, app->clock_);
  return app;
}

}  // namespace reprise::app
