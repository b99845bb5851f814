#include "server/http/mcp_session_table.hpp"

#include <gtest/gtest.h>

#include <set>

namespace verdict::server::http {
namespace {

TEST(McpSessionTableTest, IdsAreUniqueHexAndFindReturnsTheSession) {
  McpSessionTable table(100, std::chrono::hours(1));
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto [id, session] = table.create();
    ASSERT_TRUE(session);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_EQ(table.find(id), session);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(table.find(std::string(32, '0')), nullptr);
}

TEST(McpSessionTableTest, FullTableRefusesNewSessions) {
  McpSessionTable table(2, std::chrono::hours(1));
  EXPECT_TRUE(table.create().second);
  EXPECT_TRUE(table.create().second);
  auto [id, session] = table.create();
  EXPECT_TRUE(id.empty());
  EXPECT_FALSE(session);
}

TEST(McpSessionTableTest, ExpiredSessionsAreForgottenAndMakeRoom) {
  McpSessionTable table(1, std::chrono::seconds(0));  // every session is expired at once
  auto [first, session] = table.create();
  ASSERT_TRUE(session);
  EXPECT_EQ(table.find(first), nullptr);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.create().second);
  EXPECT_TRUE(table.create().second) << "an expired session does not hold its slot";
}

TEST(McpSessionTableTest, EraseEndsASession) {
  McpSessionTable table(10, std::chrono::hours(1));
  auto [id, session] = table.create();
  EXPECT_TRUE(table.erase(id));
  EXPECT_FALSE(table.erase(id));
  EXPECT_EQ(table.find(id), nullptr);
}

}  // namespace
}  // namespace verdict::server::http
