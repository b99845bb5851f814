// One engine batch holds many clients' lines in one transaction. A line that fails must fail
// alone on either engine: SQLite undoes only the failed statement, while PostgreSQL ends the
// whole transaction at its first failed statement unless the line ran in a savepoint.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/json_style.hpp"
#include "server/engine_worker.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::server {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class ReplyChannel : public Channel {
 public:
  void send(std::string bytes) override {
    std::lock_guard lock(mutex_);
    std::size_t start = 0;
    for (auto end = bytes.find('\n'); end != std::string::npos; end = bytes.find('\n', start)) {
      replies_.push_back(json::parse(bytes.substr(start, end - start)).as_object());
      start = end + 1;
    }
  }
  void close_after_send() override {}
  void answered(const Answered& outcome) override {
    std::lock_guard lock(mutex_);
    answered_ += outcome.lines;
    changed_.notify_all();
  }
  std::size_t unsent_bytes() const override { return 0; }

  std::vector<json::object> wait_replies(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 60s, [&] { return answered_ >= count; });
    return replies_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json::object> replies_;
  std::size_t answered_ = 0;
};

std::string line(std::int64_t id, const std::string& method, json::object params) {
  return to_json_text(json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
}

std::string create_line(std::int64_t id, const std::string& name) {
  return line(id, "do", {{"type", "Organization"}, {"verb", "create"}, {"data", {{"name", name}}}});
}

TEST(EngineBatchTest, AFailedLineFailsAloneAndTheOthersAreSaved) {
  Engine engine(test_support::fresh_store());
  Dispatcher dispatcher(engine, {});
  // No readers: every line below runs on the engine thread, in one batch and one transaction.
  EngineWorker worker(engine, dispatcher, {}, 0);
  worker.start();
  auto channel = std::make_shared<ReplyChannel>();
  channel->session.transport = "tcp";
  channel->session.caller = channel->session.unkeyed = Caller::local_operator();

  // A named group: ECMAScript (SQLite's $regex) reads it; PostgreSQL's dialect refuses it, with
  // a failed statement inside the batch's transaction.
  const std::string find_named_group =
      line(2, "find", {{"type", "Organization"}, {"filter", {{"name", {{"$regex", "(?<n>a)"}}}}}});
  // A filter on an unknown field fails before any SQL runs, on both.
  const std::string find_unknown_field =
      line(3, "find", {{"type", "Organization"}, {"filter", {{"nope", 1}}}});
  std::vector<LineFramer::Frame> lines;
  for (std::string text :
       {create_line(1, "Before"), find_named_group, find_unknown_field, create_line(4, "After")})
    lines.push_back({std::move(text)});
  worker.submit(channel, std::move(lines));
  auto replies = channel->wait_replies(4);
  worker.stop();
  ASSERT_EQ(replies.size(), 4u);

  EXPECT_TRUE(replies[0].contains("result")) << json::serialize(replies[0]);
  if (test_support::on_postgres()) {
    ASSERT_TRUE(replies[1].contains("error")) << json::serialize(replies[1]);
    EXPECT_EQ(replies[1].at("error").at("data").at("code"), "invalid_argument")
        << json::serialize(replies[1]);
  } else {
    EXPECT_TRUE(replies[1].contains("result")) << json::serialize(replies[1]);
  }
  EXPECT_TRUE(replies[2].contains("error")) << json::serialize(replies[2]);
  ASSERT_TRUE(replies[3].contains("result")) << json::serialize(replies[3]);

  // Both creates were committed with the batch.
  for (const auto* reply : {&replies[0], &replies[3]}) {
    std::string id(reply->at("result").at("id").as_string());
    EXPECT_EQ(engine.get("Organization", id).at("id"), json::value(id));
  }
}

}  // namespace
}  // namespace verdict::server
