#include "server/line_framer.hpp"

#include <gtest/gtest.h>

namespace verdict::server {
namespace {

std::vector<LineFramer::Frame> feed_all(LineFramer& framer,
                                        std::initializer_list<std::string_view> chunks) {
  std::vector<LineFramer::Frame> frames;
  for (auto chunk : chunks) framer.feed(chunk, frames);
  return frames;
}

TEST(LineFramerTest, JoinsLinesSplitAcrossReads) {
  LineFramer framer(100);
  auto frames = feed_all(framer, {"{\"a\":", "1}\n{\"b\"", ":2}\r\n\n"});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].line, "{\"a\":1}");
  EXPECT_EQ(frames[1].line, "{\"b\":2}");
  EXPECT_FALSE(framer.has_partial());
}

TEST(LineFramerTest, ReportsAnOversizedLineOnceAndRecovers) {
  LineFramer framer(8);
  auto frames = feed_all(framer, {"0123456", "789abcdef", "ghij\nok\n"});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(frames[1].line, "ok");
  EXPECT_FALSE(frames[1].oversized);
}

TEST(LineFramerTest, KeepsAnUnfinishedLine) {
  LineFramer framer(100);
  auto frames = feed_all(framer, {"partial"});
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(framer.has_partial());
}

}  // namespace
}  // namespace verdict::server
