#include "core/error.h"

#include <gtest/gtest.h>

namespace reprise {
namespace {

TEST(ErrorCodeTest, EveryNameReadsBackAsItsCode) {
  for (ErrorCode code :
       {ErrorCode::kNotFound, ErrorCode::kInvalidArgument, ErrorCode::kUnsupportedMedia,
        ErrorCode::kIo, ErrorCode::kUnavailable, ErrorCode::kConflict, ErrorCode::kCancelled,
        ErrorCode::kInternal, ErrorCode::kPermissionDenied}) {
    EXPECT_EQ(ErrorCodeFromName(ErrorCodeName(code)), code) << ErrorCodeName(code);
  }
  EXPECT_EQ(ErrorCodeFromName("Unavailable"), std::nullopt);
  EXPECT_EQ(ErrorCodeFromName(""), std::nullopt);
  EXPECT_EQ(ErrorCodeFromName("unknown"), std::nullopt);
}

}  // namespace
}  // namespace reprise
