#include "server/error_mapping.hpp"

#include <gtest/gtest.h>

#include "core/storage/connection.hpp"
#include "tests/server/dispatcher_harness.hpp"

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

// REST's statuses come from the same categories, through the JSON-RPC code the engine answers.
TEST(ErrorMappingTest, EveryCodeHasAnHttpStatus) {
  const std::vector<std::tuple<ErrorCode, std::string, int>> expected = {
      {ErrorCode::kInvalidArgument, "name", 422},
      {ErrorCode::kNotFound, "", 404},
      {ErrorCode::kConflict, "slug", 409},
      {ErrorCode::kConflict, "version", 412},
      {ErrorCode::kInvalidTransition, "verb", 409},
      {ErrorCode::kHookRejected, "", 422},
      {ErrorCode::kLimitExceeded, "", 422},
      {ErrorCode::kUnauthorized, "", 401},
      {ErrorCode::kInternal, "", 500},
  };
  for (const auto& [code, field, status] : expected)
    EXPECT_EQ(to_http_problem(to_rpc_error(Error(code, "m", field)).code, field).status, status)
        << to_string(code) << " " << field;
  EXPECT_STREQ(to_http_problem(kInvalidTransitionCode).type, "invalid-transition");
  EXPECT_EQ(http_problem_for_status(415).status, 415);
  EXPECT_STREQ(http_problem_for_status(405).type, "method-not-allowed");
  // An adapter's own 422 (a field it checks before the engine) is the same kind as the engine's.
  EXPECT_STREQ(http_problem_for_status(422).type, "validation");
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

// HTTP statuses come from whether a reply framed a result; checked on the dispatcher's real
// replies, with ids and contents that mention the other member.
TEST(ErrorMappingTest, FramesAResultReadsTheDispatchersFramingNotTheContent) {
  testing::DispatcherHarness harness;
  auto reply_to = [&](const std::string& id, const std::string& method, const std::string& params) {
    harness.send(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":")" + method + R"(","params":)" +
                 params + "}");
    return harness.last.line;
  };
  const std::string tricky_ids[] = {
      "7", "-15", R"("plain")", R"("a\",\"error\":{")", R"("\\")", R"(",\"result\":")"};
  for (const std::string& id : tricky_ids) {
    std::string found = reply_to(id, "ping", "{}");
    EXPECT_TRUE(frames_a_result(found)) << found;
    std::string missing = reply_to(id, "get", R"({"type":"Experiment","id":"\"result\":"})");
    ASSERT_NE(missing.find("\"error\":{"), std::string::npos) << missing;
    EXPECT_FALSE(frames_a_result(missing)) << missing;
  }
  // A result that holds an "error" member is still a result.
  std::string created =
      reply_to("1", "do", R"({"type":"Experiment","verb":"create","data":{"name":"\"error\":{"}})");
  EXPECT_TRUE(frames_a_result(created)) << created;
  EXPECT_FALSE(frames_a_result(error_response(nullptr, {-32700, "parse error", nullptr})));
  EXPECT_FALSE(frames_a_result(R"({"id":1,"jsonrpc":"2.0","result":{}})")) << "framed otherwise";
  EXPECT_FALSE(frames_a_result(R"({"jsonrpc":"2.0","id":"unterminated)"));
  EXPECT_FALSE(frames_a_result(R"({"jsonrpc":"2.0","id":"ends in a backslash\)"));
  EXPECT_FALSE(frames_a_result(""));
}

}  // namespace
}  // namespace verdict::server

// ---------------------------------------------------------------------------------------------
// Issue 12, item 16: internal failures reach the client as an incident id, never as their text.

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

TEST(InternalErrorTest, TheClientSeesTheIncidentNotTheDetail) {
  RpcError first = internal_error("internal error", "no such table: secret (in: SELECT * FROM t)");
  RpcError second = internal_error("internal error", "other");
  EXPECT_EQ(first.code, kInternalError);
  EXPECT_EQ(first.message.find("secret"), std::string::npos) << first.message;
  EXPECT_EQ(first.message.find("SELECT"), std::string::npos) << first.message;
  EXPECT_EQ(first.data.at("code"), "internal");
  std::string incident(first.data.at("incident").as_string());
  EXPECT_EQ(incident.size(), 16u);
  EXPECT_NE(first.message.find(incident), std::string::npos) << first.message;
  EXPECT_NE(incident, second.data.at("incident").as_string());
}

TEST(InternalErrorTest, AStorageFailureInAVerbKeepsItsSqlToTheLog) {
  DispatcherHarness harness(
      {}, [](Engine&, const std::string&, const std::string&, const Caller&) -> json::value {
        throw storage::StorageError(storage::Failure::kIo, "database disk image is malformed",
                                    "SELECT secret_column FROM experiment");
      });
  json::object error = harness.error("do", {{"script", "return 1"}});
  EXPECT_EQ(error.at("code"), kInternalError) << json::serialize(error);
  std::string text = json::serialize(error);
  EXPECT_EQ(text.find("secret_column"), std::string::npos) << text;
  EXPECT_EQ(error.at("data").at("code"), "internal") << text;
  EXPECT_TRUE(error.at("data").as_object().contains("incident")) << text;
}

}  // namespace
}  // namespace verdict::server
