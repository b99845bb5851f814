// Every JSON example in README.md and docs/*.md, run against the binary as a reader would paste
// it. Examples are found in the markdown itself, so a new one is covered without a test edit:
// - each ```json / ```jsonc block is one session on a fresh server over a fixture database;
//   every request in it (`{"jsonrpc", "method", ...}`) or tool call (`{"name", "arguments"}`)
//   must succeed, and a documented response must have the keys the real reply has;
// - ```lua blocks in a section about `do {script}` run as scripts; every other ```lua block is a
//   hook file that `verdict hooks check` must accept.
// Placeholders written "<...>" are filled with fixture values (a token, an id).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/engine.hpp"
#include "tests/support/server_process.hpp"

namespace verdict {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using test_support::ServerProcess;

constexpr const char* kToken = "docs-example-token-0123456789";

struct Block {
  std::string file;
  int line = 0;  ///< where the fence opens
  std::string language;
  std::string heading;  ///< the nearest heading above
  std::string text;
};

std::vector<Block> blocks_in(const fs::path& path) {
  std::vector<Block> blocks;
  std::ifstream file(path);
  std::string line, heading;
  std::optional<Block> open;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    auto start = line.find_first_not_of(' ');
    std::string trimmed = start == std::string::npos ? "" : line.substr(start);
    if (!open && trimmed.starts_with("#")) heading = trimmed;
    if (trimmed.starts_with("```")) {
      if (open) {
        blocks.push_back(std::move(*open));
        open.reset();
      } else {
        open = Block{fs::relative(path, VERDICT_SOURCE_DIR).string(), number, trimmed.substr(3),
                     heading, ""};
      }
      continue;
    }
    if (open)
      open->text +=
          (start == std::string::npos ? "" : line.substr(std::min(start, line.size()))) + "\n";
  }
  return blocks;
}

std::vector<Block> all_blocks() {
  std::vector<fs::path> files{fs::path(VERDICT_SOURCE_DIR) / "README.md"};
  for (const auto& entry : fs::directory_iterator(fs::path(VERDICT_SOURCE_DIR) / "docs"))
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Block> blocks;
  for (const auto& file : files)
    for (auto& block : blocks_in(file)) blocks.push_back(std::move(block));
  return blocks;
}

// The JSON values of a block, in order; `//` comment lines (jsonc) are dropped. A block that is
// not a sequence of JSON values (a fragment such as `"variants": [...]`) yields nothing.
std::vector<json::value> values_in(const std::string& text) {
  std::string source;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.starts_with("//")) source += line + "\n";
  std::vector<json::value> values;
  std::size_t position = 0;
  while ((position = source.find_first_not_of(" \n", position)) != std::string::npos) {
    // write_some stops at the end of one value; release() fails unless a whole value was read.
    json::parser parser;
    boost::system::error_code ec;
    position += parser.write_some(source.data() + position, source.size() - position, ec);
    if (ec) return {};
    try {
      values.push_back(parser.release());
    } catch (const std::exception&) {
      return {};
    }
  }
  return values;
}

void fill(json::value& value, const std::map<std::string, std::string>& fixtures) {
  if (value.is_object()) {
    for (auto& entry : value.as_object()) fill(entry.value(), fixtures);
  } else if (value.is_array()) {
    for (auto& item : value.as_array()) fill(item, fixtures);
  } else if (value.is_string() && value.as_string().starts_with("<")) {
    for (const auto& [word, replacement] : fixtures)
      if (value.as_string().find(word) != json::string::npos) value = replacement;
  }
}

std::set<std::string> keys_of(const json::value& value) {
  std::set<std::string> keys;
  if (value.is_object())
    for (const auto& entry : value.as_object()) keys.insert(entry.key());
  return keys;
}

class DocsExamplesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = test_support::temp_path("docs", "fixture.db");
    test_support::remove_database(fixture_);
    Engine engine(fixture_);
    auto create = [&](json::object data) {
      return std::string(
          engine.execute({.noun = "Experiment", .verb = "create", .data = std::move(data)})
              .at("id")
              .as_string());
    };
    std::string id = create({{"name", "Checkout button color"},
                             {"primaryMetric", "purchase"},
                             {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                                      {{"key", "green"}, {"weight", 50}}}}});
    engine.execute({.noun = "Experiment", .verb = "start", .id = id});
    fixtures_ = {{"token", kToken}, {"id", id}};
  }
  static void TearDownTestSuite() { test_support::remove_database(fixture_); }

  // Runs the lines on a fresh copy of the fixture database; returns the replies by id.
  std::map<std::string, json::object> run_session(const std::vector<json::object>& requests) {
    std::string db = test_support::temp_path("docs", "session.db");
    fs::copy_file(fixture_, db, fs::copy_options::overwrite_existing);
    ::setenv("VERDICT_TOKEN", kToken, 1);
    ServerProcess server({"serve", "--db", db});
    ::unsetenv("VERDICT_TOKEN");
    std::string input;
    for (const auto& request : requests) input += json::serialize(request) + "\n";
    server.write_stdin(input);
    server.close_stdin();
    std::map<std::string, json::object> replies;
    for (auto& reply : test_support::parse_lines(server.read_all_stdout()))
      if (reply.contains("id")) replies[json::serialize(reply.at("id"))] = std::move(reply);
    server.read_all_stderr();
    EXPECT_EQ(server.wait(), 0);
    test_support::remove_database(db);
    return replies;
  }

  static inline std::string fixture_;
  static inline std::map<std::string, std::string> fixtures_;
};

TEST_F(DocsExamplesTest, EveryJsonExampleRunsAsWritten) {
  int requests_run = 0;
  for (const auto& block : all_blocks()) {
    if (block.language != "json" && block.language != "jsonc") continue;
    std::string where = block.file + ":" + std::to_string(block.line);
    std::vector<json::object> requests;
    std::vector<json::object> documented_replies;
    for (auto& value : values_in(block.text)) {
      if (!value.is_object()) continue;
      json::object& message = value.as_object();
      if (message.contains("name") && message.contains("arguments")) {
        // A tool call as the docs show it: the params of tools/call.
        message = {{"jsonrpc", "2.0"},
                   {"id", "call-" + std::to_string(requests.size())},
                   {"method", "tools/call"},
                   {"params", message}};
        message["params"].as_object()["_meta"] = {
            {"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
            {"io.modelcontextprotocol/clientCapabilities", json::object{}}};
      }
      if (message.contains("method")) {
        json::value filled = message;
        fill(filled, fixtures_);
        requests.push_back(filled.as_object());
      } else if (message.contains("jsonrpc")) {
        documented_replies.push_back(message);
      }
    }
    if (requests.empty()) continue;
    auto replies = run_session(requests);
    for (const auto& request : requests) {
      if (!request.contains("id")) continue;
      ++requests_run;
      std::string id = json::serialize(request.at("id"));
      std::string shown = where + " " + json::serialize(request);
      ASSERT_TRUE(replies.contains(id)) << shown << ": no reply";
      const json::object& reply = replies.at(id);
      ASSERT_TRUE(reply.contains("result")) << shown << " -> " << json::serialize(reply);
      EXPECT_FALSE(reply.at("result").as_object().contains("isError"))
          << shown << " -> " << json::serialize(reply);
    }
    for (const auto& documented : documented_replies) {
      std::string id = json::serialize(documented.at("id"));
      ASSERT_TRUE(replies.contains(id)) << where << ": documented reply to no request";
      EXPECT_EQ(keys_of(documented.at("result")), keys_of(replies.at(id).at("result")))
          << where << ": the documented reply " << json::serialize(documented)
          << " has other keys than the real one " << json::serialize(replies.at(id));
    }
  }
  // The extraction itself must keep finding the examples.
  EXPECT_GE(requests_run, 8);
}

TEST_F(DocsExamplesTest, EveryLuaExampleLoadsOrRuns) {
  fs::path dir = test_support::temp_path("docs", "hooks");
  fs::create_directories(dir);
  int hooks = 0, scripts = 0;
  std::vector<json::object> requests;
  for (const auto& block : all_blocks()) {
    if (block.language != "lua") continue;
    if (block.heading.find("do {script}") != std::string::npos) {
      requests.push_back({{"jsonrpc", "2.0"},
                          {"id", block.file + ":" + std::to_string(block.line)},
                          {"method", "do"},
                          {"params", {{"script", block.text}}}});
      ++scripts;
    } else {
      std::string name = fs::path(block.file).stem().string() + "-" + std::to_string(block.line);
      std::ofstream(dir / (name + ".lua")) << block.text;
      ++hooks;
    }
  }
  EXPECT_GE(hooks, 4);
  EXPECT_GE(scripts, 1);
  ServerProcess check({"hooks", "check", dir.string()});
  std::string problems = check.read_all_stderr();
  EXPECT_EQ(check.wait(), 0) << problems;
  fs::remove_all(dir);
  for (const auto& [id, reply] : run_session(requests))
    EXPECT_TRUE(reply.contains("result")) << id << " -> " << json::serialize(reply);
}

}  // namespace
}  // namespace verdict
