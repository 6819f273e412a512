#include "http/api.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crypto.h"

namespace reprise::http {
namespace {

// The secret kept beside the catalog: read it, or create it exclusively (two servers
// starting at once agree on the first one written).
Result<std::string> DataDirSecret(const std::string& data_dir) {
  std::string path = data_dir + "/url-secret";
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::ifstream in(path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      std::string secret = text.str();
      while (!secret.empty() && (secret.back() == '\n' || secret.back() == ' ')) secret.pop_back();
      if (secret.size() >= BlobUrlSigner::kMinSecretBytes) return secret;
      if (!secret.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    path +
                        " holds a URL secret shorter than 32 bytes; remove it or set "
                        "server.url_secret");
      }
    }
    std::error_code ignored;
    std::filesystem::create_directories(data_dir, ignored);
    auto bytes = RandomBytes(32);
    if (!bytes) return Fail(bytes.error());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string secret;
    for (unsigned char b : *bytes) {
      secret += kHex[b >> 4];
      secret += kHex[b & 15];
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // written meanwhile by another process: read it
      return Fail(ErrnoError(ErrorCode::kIo, "cannot create " + path, errno));
    }
    std::string line = secret + "\n";
    bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) return Fail(ErrorCode::kIo, "cannot write " + path);
    return secret;
  }
  return Fail(ErrorCode::kIo, "cannot read " + path);
}

}  // namespace

Result<ApiContext> MakeApiContext(app::App& app) {
  std::string secret = app.config().server.url_secret;
  if (secret.empty()) {
    auto kept = DataDirSecret(app.config().data_dir);
    if (!kept) return Fail(kept.error());
    secret = std::move(*kept);
  }
  auto signer = BlobUrlSigner::Create(std::move(secret), app.clock());
  if (!signer) return Fail(signer.error().Wrap("server.url_secret"));
  return ApiContext{
      app, std::move(*signer), {}, std::chrono::seconds(app.config().blob.url_expiry_seconds)};
}

Result<AnswerSigning> SignForAnswer(const ApiContext& context) {
  auto expires = context.signer->SharedExpiry(context.url_ttl);
  if (!expires) return Fail(expires.error());
  const std::chrono::seconds lifetime = context.url_ttl + BlobUrlSigner::kExpiryStep;
  return AnswerSigning{*expires,
                       [&signer = *context.signer, &blobs = context.app.blobs(), until = *expires,
                        lifetime](std::string_view key) -> Result<std::string> {
                         auto presigned = blobs.PresignGet(key, until - lifetime.count(), lifetime);
                         if (!presigned) return Fail(std::move(presigned.error()));
                         if (presigned->has_value()) return std::move(**presigned);
                         return signer.SignUntil(key, until);
                       }};
}

void AddApiRoutes(Router& router, ApiContext& context) {
  AddHealthRoutes(router, context);
  AddUploadRoutes(router, context);
  AddBlobRoutes(router, context);
  AddMetricsRoutes(router, context);
  AddOpenApiRoutes(router, context);
  AddTokenRoutes(router, context);
  AddAssetRoutes(router, context);
  AddJobRoutes(router, context);
  AddBackfillRoutes(router, context);
  AddReprocessRoutes(router, context);
  AddImportRoutes(router, context);
  AddMediaRoutes(router, context);
  AddIncomingWebhookRoutes(router, context);
  AddEventRoutes(router, context);
  AddWebhookRoutes(router, context);
}

}  // namespace reprise::http
