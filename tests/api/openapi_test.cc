// The OpenAPI document against the routes the server really has: every route of the
// Router is documented with its method and path parameters, and the document names no
// route the server lacks. (tests/interop has an independent validator judge the document.)
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/openapi.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

// "/blobs/{key...}" is documented as "/blobs/{key}".
std::string DocumentedPath(std::string pattern) {
  for (auto at = pattern.find("...}"); at != std::string::npos; at = pattern.find("...}")) {
    pattern.erase(at, 3);
  }
  return pattern;
}

std::string Lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(OpenApi, ServedDocumentIsTheCheckedInOne) {
  testing::ApiServer api;
  ASSERT_TRUE(api.ok());
  auto response = api.Client()->Get("/api/v1/openapi.json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(response->body, std::string(http::OpenApiDocument()));
  EXPECT_EQ(nlohmann::json::parse(response->body)["openapi"], "3.1.0");
}

TEST(OpenApi, EveryRouteIsDocumentedAndEveryDocumentedRouteExists) {
  testing::ApiServer api;
  ASSERT_TRUE(api.ok());
  auto doc = nlohmann::json::parse(http::OpenApiDocument());
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : api.router().routes()) {
    auto path = DocumentedPath(route.pattern);
    auto method = Lower(route.method);
    served.emplace(path, method);
    ASSERT_TRUE(doc["paths"].contains(path)) << route.method << " " << path << " is not documented";
    ASSERT_TRUE(doc["paths"][path].contains(method))
        << route.method << " " << path << " is not documented";
    const auto& operation = doc["paths"][path][method];
    // Each {name} of the path is a documented path parameter.
    for (auto open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
      auto name = path.substr(open + 1, path.find('}', open) - open - 1);
      bool found = false;
      for (const auto& parameter : operation.value("parameters", nlohmann::json::array())) {
        if (parameter["in"] == "path" && parameter["name"] == name) found = true;
      }
      EXPECT_TRUE(found) << route.method << " " << path << " does not document {" << name << "}";
    }
    // Public routes say so; the others inherit the bearer requirement.
    bool documented_public = operation.contains("security") && operation["security"].empty();
    EXPECT_EQ(documented_public, route.access == http::Access::kPublic)
        << route.method << " " << path;
  }
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      EXPECT_TRUE(served.count({path, method}))
          << "the document names " << method << " " << path << ", which the server lacks";
    }
  }
}

}  // namespace
}  // namespace reprise
