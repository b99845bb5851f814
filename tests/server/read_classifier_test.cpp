#include "server/read_classifier.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace verdict::server {
namespace {

// As the transport parses a line (Dispatcher::parse): what does not parse is no read.
bool is_read_only(std::string_view line) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value message = boost::json::parse(line, ec, {}, options);
  return !ec && access_of(message) != Access::kEngine;
}

TEST(ReadClassifierTest, ReadsAreGetFindPingAndResourcesRead) {
  EXPECT_TRUE(is_read_only(
      R"({"jsonrpc":"2.0","id":1,"method":"get","params":{"type":"Experiment","id":"x"}})"));
  EXPECT_TRUE(
      is_read_only(R"({"jsonrpc":"2.0","id":1,"method":"find","params":{"type":"Metric"}})"));
  EXPECT_TRUE(is_read_only(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"));
  EXPECT_TRUE(is_read_only(
      R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"verdict://Metric/m"}})"));
  EXPECT_TRUE(is_read_only(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"type":"Metric","id":"m","name":"do"},"name":"get"}})"));
  EXPECT_TRUE(
      is_read_only(R"({"method":"tools/call","params":{"name":"find","arguments":{}},"id":"a"})"));
  // Escaped and split text is read as the parser reads it.
  EXPECT_TRUE(is_read_only(R"({"method":"\u0067et","id":1})"));
}

TEST(ReadClassifierTest, LookupsAreTheReadsByKeyAndFindsScan) {
  auto lookup = [](std::string_view line) {
    boost::json::value message = boost::json::parse(line);
    return access_of(message) == Access::kLookup;
  };
  EXPECT_TRUE(lookup(R"({"id":1,"method":"get","params":{"type":"Metric","id":"m"}})"));
  EXPECT_TRUE(lookup(R"({"id":1,"method":"ping"})"));
  EXPECT_TRUE(
      lookup(R"({"id":1,"method":"resources/read","params":{"uri":"verdict://Metric/m"}})"));
  EXPECT_TRUE(lookup(R"({"id":1,"method":"tools/call","params":{"name":"get","arguments":{}}})"));
  EXPECT_FALSE(lookup(R"({"id":1,"method":"find","params":{"type":"Metric"}})"));
  EXPECT_FALSE(lookup(R"({"id":1,"method":"tools/call","params":{"name":"find","arguments":{}}})"));
  EXPECT_FALSE(lookup(R"({"id":1,"method":"do","params":{"type":"Metric","verb":"create"}})"));
  EXPECT_FALSE(lookup(R"([{"id":1,"method":"get"}])"));
  EXPECT_EQ(access_of(boost::json::parse(R"({"id":1,"method":"find","params":{}})")),
            Access::kScan);
  EXPECT_EQ(access_of(boost::json::parse(
                R"({"id":1,"method":"tools/call","params":{"name":"find","arguments":{}}})")),
            Access::kScan);
}

TEST(ReadClassifierTest, EverythingElseGoesToTheEngineThread) {
  for (
      const char* line : {
          R"({"jsonrpc":"2.0","id":1,"method":"do","params":{"type":"Metric","verb":"create"}})",
          R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"do","arguments":{}}})",
          R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"name":"get"}}})",
          R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})",
          R"({"jsonrpc":"2.0","id":1,"method":"auth","params":{"token":"x"}})",
          R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})",
          R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
          R"({"jsonrpc":"2.0","id":1,"method":"unknown"})",
          R"({"jsonrpc":"2.0","id":1,"params":{"name":"get"}})",
          R"({"jsonrpc":"2.0","id":1,"method":["get"]})",
          R"([{"jsonrpc":"2.0","id":1,"method":"get"}])",
          R"({"jsonrpc":"2.0","id":1,"method":"get")",
          R"(not json)",
          "",
          // A duplicate key: the last one wins, for the classification as for the
          // dispatcher, which answers the same parsed value.
          R"({"method":"get","method":"do","params":{}})",
          R"({"method":"tools/call","params":{"name":"get"},"params":{"name":"do"}})",
          R"({"method":"tools/call","params":{"name":"get","name":"do"}})",
      })
    EXPECT_FALSE(is_read_only(line)) << line;
  std::string deep =
      R"({"method":"get","params":)" + std::string(70, '[') + std::string(70, ']') + "}";
  EXPECT_FALSE(is_read_only(deep));
  EXPECT_TRUE(is_read_only(R"({"method":"do","method":"get","id":1})"))
      << "the last duplicate wins, as when the dispatcher answers it";
}

}  // namespace
}  // namespace verdict::server
