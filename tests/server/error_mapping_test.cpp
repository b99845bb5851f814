#include "server/error_mapping.hpp"

#include <gtest/gtest.h>

namespace verdict::server {
namespace {

TEST(ErrorMappingTest, EveryCodeHasAJsonRpcCode) {
  const std::vector<std::pair<ErrorCode, int>> expected = {
      {ErrorCode::kInvalidArgument, -32602}, {ErrorCode::kNotFound, -32004},
      {ErrorCode::kConflict, -32009},        {ErrorCode::kInvalidTransition, -32010},
      {ErrorCode::kHookRejected, -32011},    {ErrorCode::kLimitExceeded, -32013},
      {ErrorCode::kUnauthorized, -32001},    {ErrorCode::kInternal, -32603},
  };
  for (const auto& [code, rpc] : expected) {
    RpcError error = to_rpc_error(Error(code, "m", "f"));
    EXPECT_EQ(error.code, rpc) << to_string(code);
    EXPECT_EQ(error.message, "m");
    EXPECT_EQ(error.data.at("code"), to_string(code));
    EXPECT_EQ(error.data.at("field"), "f");
  }
}

TEST(ErrorMappingTest, MissingResourcesFollowTheEra) {
  Error missing(ErrorCode::kNotFound, "gone");
  EXPECT_EQ(to_rpc_error(missing, ErrorContext::kMcpLegacy).code, -32002);
  EXPECT_EQ(to_rpc_error(missing, ErrorContext::kMcpCurrent).code, -32602);
  EXPECT_FALSE(to_rpc_error(missing).data.as_object().contains("field"));
}

TEST(ErrorMappingTest, JsonOmitsNullData) {
  EXPECT_FALSE(to_json({-32600, "bad"}).contains("data"));
  EXPECT_EQ(to_json({-32600, "bad", {{"x", 1}}}).at("data").at("x"), 1);
}

}  // namespace
}  // namespace verdict::server
