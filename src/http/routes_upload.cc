#include <httplib.h>

#include <cctype>

#include "http/api.h"
#include "http/json_body.h"
#include "services/upload_service.h"

namespace reprise::http {
namespace {

// The rest of a refused body is read and thrown away, up to this much, so that the
// client (which is still sending) gets to read the 413; past it the connection closes.
constexpr int64_t kDrainBytes = int64_t{16} << 20;
// A multipart field other than the file (name, kind, metadata, parent_id).
constexpr size_t kMaxFieldBytes = 64 * 1024;

// filename="clip.mp4" (or filename=clip.mp4) of a Content-Disposition header.
std::string DispositionFilename(std::string_view header) {
  auto at = header.find("filename=");
  if (at == std::string_view::npos) return {};
  std::string_view rest = header.substr(at + 9);
  if (!rest.empty() && rest.front() == '"') {
    auto close = rest.find('"', 1);
    return std::string(rest.substr(1, close == std::string_view::npos ? rest.npos : close - 1));
  }
  return std::string(rest.substr(0, rest.find(';')));
}

// The file name without any folders a browser may have sent.
std::string BaseName(std::string name) {
  auto slash = name.find_last_of("/\\");
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

int64_t DeclaredLength(const httplib::Request& request) {
  if (!request.has_header("Content-Length")) return -1;
  return static_cast<int64_t>(request.get_header_value<uint64_t>("Content-Length"));
}

void SendTooLarge(httplib::Response& response, const Error& error, int64_t limit) {
  SendJson(response, 413,
           {{"error",
             {{"code", "payload_too_large"},
              {"message", error.message},
              {"details", {{"limit", limit}}}}}});
}

// The upload's fields from the query string (raw bodies; multipart parts add to them).
Result<services::UploadFields> QueryFields(const RouteRequest& call) {
  services::UploadFields fields;
  fields.name = BaseName(call.Query("name").value_or(""));
  if (fields.name.empty()) {
    fields.name = BaseName(DispositionFilename(call.Header("Content-Disposition").value_or("")));
  }
  if (auto kind = call.Query("kind")) {
    auto parsed = catalog::ParseAssetKind(*kind);
    if (!parsed) return Fail(parsed.error().Wrap("kind"));
    fields.kind = *parsed;
  }
  if (auto metadata = call.Query("metadata")) {
    auto parsed = ParseJsonBody(*metadata);
    if (!parsed) return Fail(parsed.error().Wrap("metadata"));
    fields.metadata = std::move(*parsed);
  }
  if (auto parent = call.Query("parent_id")) fields.parent_id = *parent;
  return fields;
}

// Sets a multipart text field on `fields`. kInvalidArgument naming the field.
Result<void> SetField(services::UploadFields& fields, const std::string& name,
                      const std::string& value) {
  if (name == "name") {
    fields.name = BaseName(value);
  } else if (name == "kind") {
    auto parsed = catalog::ParseAssetKind(value);
    if (!parsed) return Fail(parsed.error().Wrap("kind"));
    fields.kind = *parsed;
  } else if (name == "metadata") {
    auto parsed = ParseJsonBody(value);
    if (!parsed) return Fail(parsed.error().Wrap("metadata"));
    fields.metadata = std::move(*parsed);
  } else if (name == "parent_id") {
    fields.parent_id = value;
  }
  return {};
}

bool IsKnownPart(const std::string& name) {
  return name == "file" || name == "name" || name == "kind" || name == "metadata" ||
         name == "parent_id";
}

// Reads the body and throws it away (httplib parses a multipart body whichever way it is
// read, so it needs the multipart form of the reader).
void DrainBody(const httplib::Request& request, const httplib::ContentReader& reader) {
  auto drop = [](const char*, size_t) { return true; };
  if (request.is_multipart_form_data()) {
    reader([](const httplib::MultipartFormData&) { return true; }, drop);
  } else {
    reader(drop);
  }
}

// Feeds the body into the upload as it arrives, keeping the first reason to stop.
class BodyFeed {
 public:
  explicit BodyFeed(services::Upload& upload) : upload_(upload) {}

  // One chunk of the file's bytes; false stops httplib reading.
  bool File(const char* data, size_t size) {
    if (refused_) return Drain(size);
    auto written = upload_.Write(std::as_bytes(std::span(data, size)));
    if (!written) {
      Refuse(written.error());
      return false;
    }
    if (!*written) {
      over_limit_ = true;
      refused_ = true;
    }
    return true;
  }
  // Discards what comes after a refusal, up to kDrainBytes.
  bool Drain(size_t size) {
    drained_ += static_cast<int64_t>(size);
    return drained_ <= kDrainBytes;
  }
  void Refuse(Error error) {
    if (!error_) error_ = std::move(error);
    refused_ = true;
  }

  [[nodiscard]] bool refused() const { return refused_; }
  [[nodiscard]] bool over_limit() const { return over_limit_; }
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }

 private:
  services::Upload& upload_;
  bool refused_ = false;
  bool over_limit_ = false;
  int64_t drained_ = 0;
  std::optional<Error> error_;
};

// Reads a multipart/form-data body: the `file` part into the upload, the other known
// parts into `fields`; an unknown or repeated part, or no file, refuses the upload.
void ReadMultipart(const httplib::ContentReader& reader, BodyFeed& feed,
                   services::UploadFields& fields, bool& complete) {
  std::string part;   // the part being read
  std::string value;  // a text part's value so far
  bool file_seen = false;
  auto end_part = [&] {
    if (part.empty() || part == "file" || feed.refused()) return;
    if (auto set = SetField(fields, part, value); !set) feed.Refuse(set.error());
  };
  complete = reader(
      [&](const httplib::MultipartFormData& header) {
        end_part();
        part = header.name;
        value.clear();
        if (feed.refused()) return true;
        if (!IsKnownPart(part)) {
          feed.Refuse(Error{ErrorCode::kInvalidArgument,
                            "unknown multipart field '" + part +
                                "'; known: file, name, kind, metadata, parent_id",
                            ""});
        } else if (part == "file") {
          if (file_seen) {
            feed.Refuse(Error{ErrorCode::kInvalidArgument, "more than one 'file' part", ""});
          }
          file_seen = true;
          if (fields.name.empty()) fields.name = BaseName(header.filename);
        }
        return true;
      },
      [&](const char* data, size_t size) {
        if (feed.refused()) return feed.Drain(size);
        if (part == "file") return feed.File(data, size);
        if (value.size() + size > kMaxFieldBytes) {
          feed.Refuse(Error{
              ErrorCode::kInvalidArgument,
              "multipart field '" + part + "' is over " + std::to_string(kMaxFieldBytes) + " bytes",
              ""});
          return feed.Drain(size);
        }
        value.append(data, size);
        return true;
      });
  end_part();
  if (complete && !file_seen) {
    feed.Refuse(Error{ErrorCode::kInvalidArgument, "the multipart body has no 'file' part", ""});
  }
}

}  // namespace

void AddUploadRoutes(Router& router, ApiContext& context) {
  router.AddStream(
      "POST", "/api/v1/assets",
      [&context](RouteRequest& call, httplib::Response& response,
                 const httplib::ContentReader& reader) -> Result<void> {
        app::App& app = context.app;
        services::UploadDeps deps{app.catalog(),
                                  app.blobs(),
                                  app.clock(),
                                  app.log(),
                                  app.config().max_ingest_bytes,
                                  app.config().owner,
                                  app.IngestJob()};
        auto fields = QueryFields(call);
        if (!fields) return Fail(fields.error());
        REPRISE_TRY(services::CheckUploadFields(*fields));
        int64_t declared = DeclaredLength(call.raw);
        auto upload =
            services::Upload::Begin(deps, call.caller, call.Query("owner"), fields->name, declared);
        if (!upload) {
          if (!services::TooLarge(upload.error())) return Fail(upload.error());
          // Refused before a byte is stored; a body small enough is read and dropped so
          // that the client, still sending, reads this answer.
          if (declared <= deps.max_bytes + kDrainBytes) DrainBody(call.raw, reader);
          response.set_header("Connection", "close");
          SendTooLarge(response, upload.error(), deps.max_bytes);
          return {};
        }

        BodyFeed feed(**upload);
        bool complete = false;
        if (call.raw.is_multipart_form_data()) {
          ReadMultipart(reader, feed, *fields, complete);
        } else {
          complete = reader([&](const char* data, size_t size) { return feed.File(data, size); });
        }
        if (!complete) response.set_header("Connection", "close");
        if (feed.error()) return Fail(*feed.error());
        if (!feed.over_limit() && !complete) {
          return Fail(ErrorCode::kInvalidArgument,
                      "the request body ended early or is not well-formed");
        }
        auto uploaded = (*upload)->Finish(*fields);
        if (!uploaded) {
          if (!services::TooLarge(uploaded.error())) return Fail(uploaded.error());
          SendTooLarge(response, uploaded.error(), deps.max_bytes);
          return {};
        }
        // The document GET /api/v1/assets/{id} answers, signed file URLs included.
        auto signing = SignForAnswer(context);
        if (!signing) return Fail(signing.error());
        auto view =
            context.app.assets().Show(call.caller, uploaded->asset.id, std::nullopt, signing->sign);
        if (!view) return Fail(view.error());
        view->json["created"] = uploaded->created;
        response.set_header("Location", "/api/v1/assets/" + uploaded->asset.id);
        SendJson(response, uploaded->created ? 201 : 200, view->json);
        return {};
      });
}

}  // namespace reprise::http
