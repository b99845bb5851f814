#include "server/line_framer.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

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

TEST(LineFramerTest, ParsesEachLineAsItIsFramedWhetherWholeOrSplit) {
  boost::json::parse_options options;
  options.max_depth = 2;
  LineFramer framer(40, options);
  // One parser serves every line: a line it fails on partway (too deep, or cut short after a
  // string it had built) must leave nothing behind for the next.
  auto frames = feed_all(framer, {"{\"a\":1}\n{\"b\"", ":2}\r\n[[[1]]]\nnot json\n",
                                  std::string(50, 'x') + "\n{}\n{\"c\":[\"long string\"\n[3]\n"});
  ASSERT_EQ(frames.size(), 8u);
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 7u}) {
    ASSERT_NE(frames[i].parsed, nullptr) << i;
    EXPECT_TRUE(frames[i].line.empty()) << "a parsed line keeps no copy of its text";
  }
  EXPECT_EQ(frames[0].parsed->message, boost::json::parse(R"({"a":1})")) << "arrived whole";
  EXPECT_EQ(frames[1].parsed->message, boost::json::parse(R"({"b":2})")) << "split over reads";
  EXPECT_EQ(frames[2].parsed->error, boost::json::error::too_deep) << "the options are used";
  EXPECT_TRUE(frames[3].parsed->error);
  EXPECT_TRUE(frames[4].oversized);
  EXPECT_EQ(frames[4].parsed, nullptr);
  EXPECT_EQ(frames[5].parsed->message, boost::json::object{});
  EXPECT_TRUE(frames[6].parsed->error);
  EXPECT_EQ(frames[7].parsed->message, boost::json::parse("[3]"));
}

TEST(LineFramerTest, ALargeLineIsParsedAndTheOptionsStillHoldAfterIt) {
  boost::json::parse_options options;
  options.max_depth = 2;
  LineFramer framer(1 << 20, options);
  std::string large = "[";
  for (int i = 0; i < 20000; ++i) large += std::to_string(i) + ",";
  large.back() = ']';
  auto frames = feed_all(framer, {large + "\n[[[1]]]\n[[2]]\n"});
  ASSERT_EQ(frames.size(), 3u);
  ASSERT_FALSE(frames[0].parsed->error);
  EXPECT_EQ(frames[0].parsed->message.as_array().size(), 20000u);
  EXPECT_EQ(frames[0].parsed->message.as_array().back(), 19999);
  EXPECT_EQ(frames[1].parsed->error, boost::json::error::too_deep)
      << "the renewed parser's options";
  EXPECT_EQ(frames[2].parsed->message, boost::json::parse("[[2]]"));
}

TEST(LineFramerTest, FramesAtMostTheLinesAskedForAndHandsBackTheRest) {
  LineFramer framer(8);
  std::vector<LineFramer::Frame> frames;
  std::string_view rest = framer.feed("a\n\nb\r\n0123456789\nc\nd", frames, 2);
  ASSERT_EQ(frames.size(), 2u) << "an empty line is skipped, not counted";
  EXPECT_EQ(frames[1].line, "b");
  EXPECT_EQ(rest, "0123456789\nc\nd");
  rest = framer.feed(rest, frames, 2);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_TRUE(frames[2].oversized) << "an oversized line is a frame like any other";
  EXPECT_EQ(frames[3].line, "c");
  EXPECT_EQ(rest, "d");
  EXPECT_TRUE(framer.feed(rest, frames, 2).empty()) << "an unfinished line is consumed and kept";
  EXPECT_EQ(frames.size(), 4u);
  EXPECT_TRUE(framer.feed("e\n", frames).empty());
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[4].line, "de");
}

TEST(LineFramerTest, KeepsAnUnfinishedLine) {
  LineFramer framer(100);
  auto frames = feed_all(framer, {"partial"});
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(framer.has_partial());
}

TEST(ParsedLineTest, HoldsWhatTheParserReadsAndCountsItsMemory) {
  boost::json::parse_options options;
  options.max_depth = 64;
  const std::string small = R"({"jsonrpc":"2.0","id":7,"method":"get","params":{"id":"x"}})";
  ParsedLine parsed_small(small, options);
  EXPECT_FALSE(parsed_small.error);
  EXPECT_EQ(parsed_small.message, boost::json::parse(small));
  EXPECT_EQ(parsed_small.bytes(), sizeof(ParsedLine)) << "a small request fits the first block";
  // A tool call of the 2026-07-28 era, with its _meta, takes one more block.
  const std::string tool_call =
      R"({"jsonrpc":"2.0","id":123456,"method":"tools/call","params":{"name":"get",)"
      R"("arguments":{"type":"Experiment","id":"experiment_SKSKSYrD"},"_meta":{)"
      R"("io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
      R"("io.modelcontextprotocol/clientCapabilities":{},)"
      R"("io.modelcontextprotocol/clientInfo":{"name":"agent","version":"1.0.0"}}}})";
  ParsedLine parsed_tool_call(tool_call, options);
  EXPECT_EQ(parsed_tool_call.message, boost::json::parse(tool_call));
  EXPECT_GT(parsed_tool_call.bytes(), sizeof(ParsedLine));
  EXPECT_LE(parsed_tool_call.bytes(), sizeof(ParsedLine) + 2048);

  // 20,000 numbers take 16 bytes each once parsed, eight times their text: the budget must
  // see that, not the text.
  std::string numbers = R"({"method":"do","params":[)";
  for (int i = 0; i < 20000; ++i) numbers += i ? ",1" : "1";
  numbers += "]}";
  ParsedLine parsed_numbers(numbers, options);
  EXPECT_FALSE(parsed_numbers.error);
  EXPECT_EQ(parsed_numbers.message.at("params").as_array().size(), 20000u);
  EXPECT_GE(parsed_numbers.bytes(), 20000 * sizeof(boost::json::value));

  ParsedLine too_deep(std::string(70, '[') + std::string(70, ']'), options);
  EXPECT_EQ(too_deep.error, boost::json::error::too_deep);
  EXPECT_TRUE(too_deep.message.is_null());
}

TEST(ParsedLineTest, AFreedBlockIsReusedAndARunOfThemFromAnotherThreadIsSafe) {
  boost::json::parse_options options;
  const std::string line = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  // A run of lines made on one thread and freed on another, as a transport's lines are answered
  // by the engine or a reader thread (ThreadSanitizer checks the spare blocks' locking).
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<ParsedLine>> run;
    for (std::size_t i = 0; i < ParsedLine::kSpareBlocks + 50; ++i)
      run.push_back(std::make_unique<ParsedLine>(line, options));
    std::thread([&run] { run.clear(); }).join();
  }
  auto first = std::make_unique<ParsedLine>(line, options);
  const void* block = first.get();
  first.reset();
  auto second = std::make_unique<ParsedLine>(line, options);
  EXPECT_EQ(second->message, boost::json::parse(line)) << "a reused block parses like a new one";
  if constexpr (ParsedLine::kSpareBlocks > 0) {
    EXPECT_EQ(second.get(), block) << "the block just freed was not reused";
  }
}

}  // namespace
}  // namespace verdict::server
