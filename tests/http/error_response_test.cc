#include "http/error_response.h"

#include <gtest/gtest.h>

namespace reprise::http {
namespace {

TEST(HttpStatus, MapsEveryErrorCode) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kCancelled), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnsupportedMedia), 415);
  EXPECT_EQ(HttpStatus(ErrorCode::kIo), 500);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
}

TEST(ErrorBody, HasCodeMessageOriginAndDetails) {
  nlohmann::json body = ErrorBody({ErrorCode::kUnavailable, "catalog is busy", "sqlite:5"},
                                  {{"component", "catalog"}});
  EXPECT_EQ(body, nlohmann::json::parse(R"({"error": {"code": "unavailable",
      "message": "catalog is busy", "origin": "sqlite:5",
      "details": {"component": "catalog"}}})"));
}

TEST(ErrorBody, DetailsAreAlwaysAnObject) {
  Error error{ErrorCode::kNotFound, "no asset x", ""};
  EXPECT_EQ(ErrorBody(error), nlohmann::json::parse(R"({"error": {"code": "not_found",
      "message": "no asset x", "details": {}}})"));
  EXPECT_EQ(ErrorBody(error, nullptr)["error"]["details"], nlohmann::json::object());
  EXPECT_EQ(ErrorBody(error, {1, 2})["error"]["details"],
            nlohmann::json::parse(R"({"value":[1,2]})"));
}

}  // namespace
}  // namespace reprise::http
