// Reads in parallel (issue 20): the engine worker answers reads on reader threads over
// read-only connections while writes keep the engine thread. In-process, over a WAL file, with
// channels that record what they are sent, so that ThreadSanitizer sees every thread involved.

#include "server/engine_worker.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/engine.hpp"
#include "core/json_style.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::server {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Only a guard against a hang: every wait ends as soon as its condition holds.
constexpr auto kHang = 60s;

/// A channel that keeps every reply line; unsent bytes grow with what it is sent until the test
/// drains them, as a client that does not read would make them.
class RecordingChannel : public Channel {
 public:
  void send(std::string bytes) override {
    std::lock_guard lock(mutex_);
    senders_.push_back(std::this_thread::get_id());
    unsent_ += bytes.size();
    max_unsent_ = std::max(max_unsent_, unsent_.load());
    std::size_t start = 0;
    for (auto end = bytes.find('\n'); end != std::string::npos; end = bytes.find('\n', start)) {
      lines_.push_back(bytes.substr(start, end - start));
      start = end + 1;
    }
    changed_.notify_all();
  }
  void close_after_send() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  void answered(const Answered& outcome) override {
    std::lock_guard lock(mutex_);
    answered_ += outcome.lines;
    ++answered_calls_;
    changed_.notify_all();
  }
  std::size_t unsent_bytes() const override { return budgeted_ ? unsent_.load() : 0; }

  /// Counts unsent bytes against the output budget (a client that reads nothing until drain).
  void hold_output() { budgeted_ = true; }
  /// The client read everything: as a transport does, resume the channel if it was parked.
  void drain(EngineWorker& worker, const std::shared_ptr<Channel>& self) {
    unsent_ = 0;
    if (exchange_parked(false)) worker.resume(self);
  }

  /// Waits until `count` lines were answered; false on a hang.
  bool wait_answered(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kHang, [&] { return answered_ >= count; });
  }
  /// Waits until more than `count` lines were answered, or a short while passes.
  void wait_beyond(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 20ms, [&] { return answered_ > count; });
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::size_t answered() {
    std::lock_guard lock(mutex_);
    return answered_;
  }
  std::size_t answered_calls() {
    std::lock_guard lock(mutex_);
    return answered_calls_;
  }
  /// The thread of each send, in order.
  std::vector<std::thread::id> senders() {
    std::lock_guard lock(mutex_);
    return senders_;
  }
  std::size_t max_unsent() {
    std::lock_guard lock(mutex_);
    return max_unsent_;
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::vector<std::thread::id> senders_;
  std::size_t answered_ = 0;
  std::size_t answered_calls_ = 0;
  std::size_t max_unsent_ = 0;
  bool closed_ = false;
  std::atomic<bool> budgeted_{false};
  std::atomic<std::size_t> unsent_{0};
};

std::string line(std::int64_t id, const std::string& method, json::object params) {
  return to_json_text(json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
}

std::string get_line(std::int64_t id, const std::string& entity, json::object meta = {}) {
  json::object params{{"type", "Organization"}, {"id", entity}};
  if (!meta.empty()) params["_meta"] = std::move(meta);
  return line(id, "get", std::move(params));
}

std::string update_line(std::int64_t id, const std::string& entity, const std::string& value) {
  return line(id, "do",
              {{"type", "Organization"},
               {"verb", "update"},
               {"id", entity},
               {"data", {{"name", value}, {"domain", value}}}});
}

std::vector<LineFramer::Frame> frames(std::vector<std::string> lines) {
  std::vector<LineFramer::Frame> out;
  for (auto& text : lines) out.push_back({std::move(text), false});
  return out;
}

json::object parse(const std::string& text) {
  return json::parse(text).as_object();
}

/// An engine on a WAL file (or PostgreSQL), its dispatcher, and a worker with two reader threads.
class ReadersTest : public ::testing::Test {
 public:
  explicit ReadersTest(ConnectionLimits limits = {})
      : path_(test_support::shared_store(
            test_support::temp_path("readers", std::to_string(++counter_) + ".db"))),
        files_({path_}),
        engine_(path_),
        dispatcher_(engine_, {}),
        limits_(limits) {}

  void SetUp() override {
    worker_ = std::make_unique<EngineWorker>(engine_, dispatcher_, limits_, 2);
    ASSERT_EQ(worker_->reader_threads(), 2u);
    worker_->start();
  }
  void TearDown() override { worker_->stop(); }

  std::shared_ptr<RecordingChannel> channel() {
    auto made = std::make_shared<RecordingChannel>();
    made->session.transport = "tcp";
    made->session.caller = made->session.unkeyed = Caller::local_operator();
    return made;
  }

  /// Creates an Organization through the worker and returns its id.
  std::string create() {
    auto writer = channel();
    worker_->submit(writer, frames({line(1, "do",
                                         {{"type", "Organization"},
                                          {"verb", "create"},
                                          {"data", {{"name", "v0"}, {"domain", "v0"}}}})}));
    EXPECT_TRUE(writer->wait_answered(1));
    auto reply = parse(writer->lines().at(0));
    return std::string(reply.at("result").at("id").as_string());
  }

  struct Key {
    std::string id;
    std::string secret;
  };
  /// Creates a key of the default project through the worker, as its operator.
  Key create_key(const std::string& role) {
    auto admin = channel();
    worker_->submit(
        admin,
        frames({line(
            1, "do",
            {{"type", "Key"}, {"verb", "create"}, {"data", {{"role", role}, {"name", role}}}})}));
    EXPECT_TRUE(admin->wait_answered(1));
    auto reply = parse(admin->lines().at(0));
    const auto& result = reply.at("result").as_object();
    return {std::string(result.at("id").as_string()), std::string(result.at("secret").as_string())};
  }

  static inline int counter_ = 0;
  std::string path_;
  test_support::TempFiles files_;
  Engine engine_;
  Dispatcher dispatcher_;
  ConnectionLimits limits_;
  std::unique_ptr<EngineWorker> worker_;
};

/// Pipelined: every round's update and get arrive in one submission, several rounds at once, so
/// runs of writes and reads alternate inside what the transport hands over; each get must see
/// its own round's update. With a seat, the transport's thread answers the reads itself.
void expect_reads_see_the_writes_before_them(ReadersTest& test, ReaderPool::Seat* seat) {
  std::string id = test.create();
  auto client = test.channel();
  constexpr int kRounds = 300;
  std::vector<std::string> batch;
  for (int round = 1; round <= kRounds; ++round) {
    batch.push_back(update_line(2 * round, id, "v" + std::to_string(round)));
    batch.push_back(get_line(2 * round + 1, id));
    if (round % 3 != 0 && round != kRounds) continue;
    test.worker_->submit(client, frames(std::move(batch)), seat);
    batch.clear();
  }
  ASSERT_TRUE(client->wait_answered(2 * kRounds));
  auto lines = client->lines();
  ASSERT_EQ(lines.size(), 2u * kRounds);
  for (int round = 1; round <= kRounds; ++round) {
    auto update = parse(lines[2 * (round - 1)]);
    auto got = parse(lines[2 * (round - 1) + 1]);
    ASSERT_EQ(update.at("id"), 2 * round) << "replies out of order";
    ASSERT_EQ(got.at("id"), 2 * round + 1) << "replies out of order";
    const auto& entity = got.at("result").as_object();
    EXPECT_EQ(entity.at("name"), json::value("v" + std::to_string(round)))
        << lines[2 * (round - 1) + 1];
    EXPECT_EQ(entity.at("version"), round + 1);
  }
  EXPECT_GE(test.worker_->lines_read(), static_cast<std::uint64_t>(kRounds))
      << "the gets were not answered by a reader";
}

TEST_F(ReadersTest, AReadAfterAWriteOnTheSameConnectionSeesTheWrite) {
  expect_reads_see_the_writes_before_them(*this, nullptr);
}

TEST_F(ReadersTest, AReadAnsweredOnTheTransportsSeatSeesTheWritesBeforeIt) {
  auto seat = worker_->seat();
  ASSERT_NE(seat, nullptr);
  expect_reads_see_the_writes_before_them(*this, seat.get());
}

TEST_F(ReadersTest, ASeatAnswersItsChannelsReadsBeforeSubmitReturns) {
  std::string id = create();
  auto seat = worker_->seat();
  auto client = channel();
  std::uint64_t read_before = worker_->lines_read();
  worker_->submit(client, frames({get_line(1, id), get_line(2, id), get_line(3, id)}), seat.get());
  // No wait: the calling thread answered them, in order, as part of submit.
  auto lines = client->lines();
  ASSERT_EQ(lines.size(), 3u);
  for (std::int64_t i = 0; i < 3; ++i) {
    auto reply = parse(lines[static_cast<std::size_t>(i)]);
    EXPECT_EQ(reply.at("id"), i + 1);
    EXPECT_EQ(reply.at("result").at("id"), json::value(id));
  }
  EXPECT_EQ(worker_->lines_read(), read_before + 3);
  EXPECT_EQ(client->answered(), 3u);
}

TEST_F(ReadersTest, ATransportSeatKeepsItsSnapshotUntilReleasedOrTooOld) {
  std::string id = create();
  auto seat = worker_->seat();
  ASSERT_NE(seat, nullptr);
  std::int64_t next_id = 100;
  auto name_now = [&] {
    auto client = channel();
    worker_->submit(client, frames({get_line(++next_id, id)}), seat.get());
    auto lines = client->lines();
    EXPECT_EQ(lines.size(), 1u);
    return lines.empty() ? std::string()
                         : std::string(parse(lines[0]).at("result").at("name").as_string());
  };
  // Another process's engine on the same database: its commits are not counted by the worker.
  Engine other(path_);
  auto write_elsewhere = [&](const std::string& name) {
    other.execute({.noun = "Organization",
                   .verb = "update",
                   .id = id,
                   .data = {{"name", name}},
                   .actor = "elsewhere"});
  };

  if (test_support::on_postgres()) {
    // No snapshot is kept there (EngineWorker::seat): another node's commit is read once its
    // notification has reached this reader's connection, without a release.
    EXPECT_EQ(name_now(), "v0");
    write_elsewhere("theirs");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (name_now() != "theirs" && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(name_now(), "theirs");
    return;
  }
  // The engine thread counts a possible commit after every batch it runs (engine_wrote), which
  // may land between two reads here and rightly renew the snapshot: so a few tries, one of which
  // must keep it.
  bool kept = false;
  std::string last;
  for (int attempt = 0; attempt < 5 && !kept; ++attempt) {
    worker_->release(*seat);
    auto began = std::chrono::steady_clock::now();
    std::string before = name_now();
    last = "theirs" + std::to_string(attempt);
    write_elsewhere(last);
    std::string after = name_now();
    kept =
        after == before && std::chrono::steady_clock::now() - began < ReaderPool::kMaxSnapshotAge;
  }
  EXPECT_TRUE(kept) << "no run read in the snapshot of the run before it";
  worker_->release(*seat);
  EXPECT_EQ(name_now(), last) << "a released seat read its old snapshot";

  write_elsewhere("later");
  std::this_thread::sleep_for(ReaderPool::kMaxSnapshotAge + 5ms);
  EXPECT_EQ(name_now(), "later") << "a snapshot older than kMaxSnapshotAge was kept";
}

TEST_F(ReadersTest, ASeatSaysHowLongItsSnapshotMayStillBeKept) {
  std::string id = create();
  auto seat = worker_->seat();
  ASSERT_NE(seat, nullptr);
  EXPECT_EQ(worker_->snapshot_time_left(*seat), 0ms) << "nothing read yet";
  std::int64_t next_id = 100;
  auto read = [&] {
    auto client = channel();
    worker_->submit(client, frames({get_line(++next_id, id)}), seat.get());
    EXPECT_EQ(client->lines().size(), 1u);
  };
  if (test_support::on_postgres()) {
    read();
    EXPECT_EQ(worker_->snapshot_time_left(*seat), 0ms) << "no snapshot is kept on PostgreSQL";
    return;
  }
  // A commit of the engine thread's (it counts one after every batch) may land between the read
  // and the question and rightly make the snapshot stale: so a few tries, one of which must see
  // it kept.
  bool kept = false;
  for (int attempt = 0; attempt < 5 && !kept; ++attempt) {
    worker_->release(*seat);
    read();
    auto left = worker_->snapshot_time_left(*seat);
    kept = left > 0ms;
    EXPECT_LE(left, ReaderPool::kMaxSnapshotAge);
  }
  EXPECT_TRUE(kept) << "the snapshot of the read just answered was not offered for keeping";

  worker_->release(*seat);
  EXPECT_EQ(worker_->snapshot_time_left(*seat), 0ms) << "released";

  read();
  auto writer = channel();
  worker_->submit(writer, frames({line(1, "do",
                                       {{"type", "Organization"},
                                        {"verb", "update"},
                                        {"id", id},
                                        {"data", {{"name", "v1"}}}})}));
  ASSERT_TRUE(writer->wait_answered(1));
  EXPECT_EQ(worker_->snapshot_time_left(*seat), 0ms) << "the engine thread committed since";

  read();
  std::this_thread::sleep_for(ReaderPool::kMaxSnapshotAge + 5ms);
  EXPECT_EQ(worker_->snapshot_time_left(*seat), 0ms) << "older than kMaxSnapshotAge";
}

TEST_F(ReadersTest, TheIoThreadAnswersRunsOfLookupsAndHandsFindsAndLongRunsToTheReaders) {
  std::string id = create();
  // This test's thread plays the I/O thread; its rounds never end, which changes nothing here.
  worker_->answer_lookups_here([](std::function<void()>) {});
  const auto here = std::this_thread::get_id();
  auto answered_on = [&](std::vector<std::string> lines) {
    auto client = channel();
    std::size_t count = lines.size();
    worker_->submit(client, frames(std::move(lines)));
    EXPECT_TRUE(client->wait_answered(count));
    for (const auto& reply : client->lines()) EXPECT_TRUE(parse(reply).contains("result"));
    return client->senders();
  };
  // On PostgreSQL a read waits on the network, so the I/O thread never answers one itself.
  const bool answers_here = !test_support::on_postgres();
  EXPECT_EQ(answered_on({get_line(1, id)}) == std::vector{here}, answers_here) << "a lone get";
  std::vector<std::string> gets;
  for (int i = 1; i <= 64; ++i) gets.push_back(get_line(i, id));
  EXPECT_EQ(answered_on(gets) == std::vector{here}, answers_here) << "64 gets";
  gets.push_back(get_line(65, id));
  auto long_run = answered_on(gets);
  ASSERT_EQ(long_run.size(), 1u);
  EXPECT_NE(long_run.front(), here) << "65 gets hold the I/O thread too long";
  auto find = answered_on({line(1, "find", {{"type", "Organization"}})});
  ASSERT_EQ(find.size(), 1u);
  EXPECT_NE(find.front(), here) << "a find may scan: never on the I/O thread";
}

// Lone lookups on the I/O thread share one read transaction for a round (two fcntl(2) calls
// saved per read). Never at a client's expense: a commit of the engine thread ends the shared
// snapshot before the reply that announces it goes out, and the end of the round ends it too, so
// another process's commit is seen as soon as the round that was under way is over.
TEST_F(ReadersTest, LoneLookupsShareASnapshotUntilTheRoundEndsOrTheEngineCommits) {
  std::string id = create();
  std::vector<std::function<void()>> round_ends;
  worker_->answer_lookups_here(
      [&](std::function<void()> task) { round_ends.push_back(std::move(task)); });
  if (test_support::on_postgres()) {
    // The I/O thread answers no read there (see the test above), so it keeps no snapshot.
    auto client = channel();
    worker_->submit(client, frames({get_line(1, id)}));
    EXPECT_TRUE(client->wait_answered(1));
    EXPECT_TRUE(round_ends.empty());
    return;
  }
  std::int64_t next_id = 100;
  auto name_now = [&] {
    auto client = channel();
    worker_->submit(client, frames({get_line(++next_id, id)}));
    // Answered on this thread before submit returns: no wait.
    auto lines = client->lines();
    EXPECT_EQ(lines.size(), 1u);
    return lines.empty() ? std::string()
                         : std::string(parse(lines[0]).at("result").at("name").as_string());
  };
  auto end_round = [&] {
    auto tasks = std::move(round_ends);
    round_ends.clear();
    for (auto& task : tasks) task();
  };
  storage::SqliteConnection other(path_);  // another process's connection to the same file
  auto write_elsewhere = [&](const std::string& name) {
    other.exec("UPDATE " + engine_.schema().noun("Organization").table + " SET \"name\" = '" +
               name + "' WHERE \"id\" = '" + id + "'");
  };

  // The shared snapshot is also renewed after ReaderPool::kMaxSnapshotAge, and whenever the
  // engine thread counts a possible commit (after each of its batches), either of which may
  // rightly fall between two lookups here: a few rounds, one of which must share it.
  bool shared = false;
  std::string last = "v0";
  for (int attempt = 0; attempt < 5 && !shared; ++attempt) {
    end_round();
    auto began = std::chrono::steady_clock::now();
    EXPECT_EQ(name_now(), last) << "a new round read an old snapshot";
    EXPECT_EQ(round_ends.size(), 1u) << "the first lone lookup of a round asks for its end";
    std::string before = last;
    last = "theirs" + std::to_string(attempt);
    write_elsewhere(last);
    shared = name_now() == before &&
             std::chrono::steady_clock::now() - began < ReaderPool::kMaxSnapshotAge;
    EXPECT_EQ(round_ends.size(), 1u) << "one end per round";
  }
  EXPECT_TRUE(shared) << "no round's second lookup read in the snapshot of its first";
  end_round();
  EXPECT_EQ(name_now(), last) << "the round ended with its snapshot still open";

  auto writer = channel();
  worker_->submit(writer, frames({update_line(1, id, "ours")}));
  ASSERT_TRUE(writer->wait_answered(1));
  EXPECT_EQ(name_now(), "ours") << "a lookup after the engine's reply read an older snapshot";
  end_round();
}

TEST_F(ReadersTest, ReadsFromManyConnectionsDuringWritesSeeWholeEntities) {
  std::string id = create();
  constexpr int kReaders = 6;
  constexpr int kReads = 200;
  constexpr int kWrites = 150;
  std::vector<std::shared_ptr<RecordingChannel>> readers;
  for (int i = 0; i < kReaders; ++i) readers.push_back(channel());
  auto writer = channel();
  std::vector<std::thread> clients;
  clients.emplace_back([&] {
    for (int write = 1; write <= kWrites; ++write)
      worker_->submit(writer, frames({update_line(write, id, "v" + std::to_string(write))}));
  });
  for (int i = 0; i < kReaders; ++i)
    clients.emplace_back([&, i] {
      for (int read = 0; read < kReads; read += 4) {
        std::vector<std::string> batch;
        for (int k = read; k < read + 4; ++k) batch.push_back(get_line(k, id));
        worker_->submit(readers[i], frames(std::move(batch)));
      }
    });
  for (auto& client : clients) client.join();
  ASSERT_TRUE(writer->wait_answered(kWrites));
  for (auto& reader : readers) {
    ASSERT_TRUE(reader->wait_answered(kReads));
    std::int64_t last_version = 0;
    for (const auto& text : reader->lines()) {
      json::object reply = parse(text);
      const auto& entity = reply.at("result").as_object();
      std::int64_t version = entity.at("version").as_int64();
      // Each update sets both fields to v{n} and makes version n + 1: a torn or stale entity
      // would mix them.
      std::string expected = "v" + std::to_string(version - 1);
      EXPECT_EQ(entity.at("name"), json::value(expected)) << text;
      EXPECT_EQ(entity.at("domain"), json::value(expected)) << text;
      // One connection's reads are answered in order, and commits only move forward.
      EXPECT_GE(version, last_version) << text;
      last_version = version;
    }
  }
  EXPECT_GE(worker_->lines_read(), static_cast<std::uint64_t>(kReaders * kReads));
}

TEST_F(ReadersTest, ReadsOnReaderThreadsStillCheckKeysAndRoles) {
  std::string id = create();
  // Through the worker: the engine belongs to its thread once the worker runs.
  Key reader_key = create_key("reader");
  Key admin_key = create_key("admin");

  // A connection that owes a key is refused and closed without one.
  auto anonymous = channel();
  anonymous->session.requires_token = true;
  worker_->submit(anonymous, frames({get_line(1, id)}));
  ASSERT_TRUE(anonymous->wait_answered(1));
  auto refused = parse(anonymous->lines().at(0));
  EXPECT_NE(std::string(refused.at("error").at("message").as_string()).find("unauthorized"),
            std::string::npos)
      << anonymous->lines().at(0);
  EXPECT_TRUE(anonymous->closed());

  // A reader key reads the organization but not the keys (Key needs admin).
  auto keyed = channel();
  keyed->session.requires_token = true;
  json::object token{{"io.verdict/token", reader_key.secret}};
  worker_->submit(
      keyed, frames({get_line(1, id, token),
                     line(2, "get", {{"type", "Key"}, {"id", reader_key.id}, {"_meta", token}}),
                     get_line(3, id)}));
  ASSERT_TRUE(keyed->wait_answered(3));
  auto lines = keyed->lines();
  EXPECT_EQ(parse(lines.at(0)).at("result").at("id"), json::value(id)) << lines.at(0);
  auto role = parse(lines.at(1));
  ASSERT_TRUE(role.contains("error")) << lines.at(1);
  EXPECT_NE(std::string(role.at("error").at("message").as_string()).find("admin"),
            std::string::npos)
      << lines.at(1);
  EXPECT_EQ(parse(lines.at(2)).at("result").at("id"), json::value(id)) << lines.at(2);
  std::uint64_t read_before = worker_->lines_read();
  EXPECT_GE(read_before, 3u);

  // The admin revokes the reader key through the engine thread; the reader threads see it at
  // the key's next request.
  auto admin = channel();
  admin->session.requires_token = true;
  worker_->submit(admin, frames({line(1, "do",
                                      {{"type", "Key"},
                                       {"verb", "revoke"},
                                       {"id", reader_key.id},
                                       {"_meta", {{"io.verdict/token", admin_key.secret}}}})}));
  ASSERT_TRUE(admin->wait_answered(1));
  ASSERT_TRUE(parse(admin->lines().at(0)).contains("result")) << admin->lines().at(0);
  worker_->submit(keyed, frames({get_line(4, id)}));
  ASSERT_TRUE(keyed->wait_answered(4));
  auto revoked = parse(keyed->lines().at(3));
  ASSERT_TRUE(revoked.contains("error")) << keyed->lines().at(3);
  EXPECT_NE(std::string(revoked.at("error").at("message").as_string()).find("revoked"),
            std::string::npos)
      << keyed->lines().at(3);
  EXPECT_GT(worker_->lines_read(), read_before) << "the refusal did not come from a reader";
}

TEST_F(ReadersTest, ReadersSeeFieldsAddedToTheSchemaBetweenBatches) {
  std::string id = create();
  // What a hook reload does (LuaHookRunner::install), as a task on the engine thread.
  worker_->post([this] {
    engine_.schema().add_field("Organization", parse_field("tier", "string", ""));
    engine_.store().migrate();
  });
  auto client = channel();
  worker_->submit(client, frames({line(1, "do",
                                       {{"type", "Organization"},
                                        {"verb", "update"},
                                        {"id", id},
                                        {"data", {{"tier", "gold"}}}}),
                                  get_line(2, id)}));
  ASSERT_TRUE(client->wait_answered(2));
  auto lines = client->lines();
  ASSERT_TRUE(parse(lines.at(0)).contains("result")) << lines.at(0);
  EXPECT_EQ(parse(lines.at(1)).at("result").at("tier"), "gold") << lines.at(1);
}

class ReadersBudgetTest : public ReadersTest {
 protected:
  static ConnectionLimits small_budget() {
    ConnectionLimits limits;
    limits.output_bytes_per_connection = 2000;
    return limits;
  }
  ReadersBudgetTest() : ReadersTest(small_budget()) {}
};

TEST_F(ReadersBudgetTest, AClientThatDoesNotReadParksItsReadsAtTheBudget) {
  std::string id = create();
  auto client = channel();
  client->hold_output();
  // Reads with a write in the middle of every ten: runs on both kinds of thread.
  constexpr int kLines = 120;
  std::vector<std::string> batch;
  for (int i = 1; i <= kLines; ++i)
    batch.push_back(i % 10 == 5 ? update_line(i, id, "v" + std::to_string(i)) : get_line(i, id));
  worker_->submit(client, frames(std::move(batch)));
  std::size_t longest_reply = 0;
  while (client->answered() < kLines) {
    std::size_t answered = client->answered();
    client->wait_beyond(answered);
    // Answering stops at the budget until the client reads.
    EXPECT_LE(client->max_unsent(), limits_.output_bytes_per_connection + 1000);
    client->drain(*worker_, client);
    for (const auto& text : client->lines()) longest_reply = std::max(longest_reply, text.size());
  }
  auto lines = client->lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  for (int i = 1; i <= kLines; ++i) EXPECT_EQ(parse(lines[i - 1]).at("id"), i) << "out of order";
  EXPECT_LT(longest_reply, 1000u);
  // Answered a few lines at a time, not in one go: the budget parked the channel.
  EXPECT_GT(client->answered_calls(), 10u);
  EXPECT_GT(worker_->lines_read(), 100u);
}

// A lone lookup on the I/O thread is answered without a route when its channel has nothing
// else under way; when the budget stops it, it must still wait, in order, for the client.
TEST_F(ReadersBudgetTest, ALoneLookupOverTheBudgetWaitsForTheClientToRead) {
  std::string id = create();
  worker_->answer_lookups_here([](std::function<void()>) {});
  auto client = channel();
  client->hold_output();
  client->send(std::string(limits_.output_bytes_per_connection + 1, ' '));  // not read yet
  worker_->submit(client, frames({get_line(1, id)}));
  worker_->submit(client, frames({get_line(2, id)}));  // behind the first, which is parked
  client->wait_beyond(0);
  EXPECT_EQ(client->answered(), 0u) << "answered past the budget";
  client->drain(*worker_, client);
  ASSERT_TRUE(client->wait_answered(2));
  auto lines = client->lines();
  ASSERT_EQ(lines.size(), 2u);
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(parse(lines[i - 1]).at("id"), i) << "out of order";
    EXPECT_TRUE(parse(lines[i - 1]).contains("result")) << lines[i - 1];
  }
}

TEST(ReadersOffTest, AnInMemoryDatabaseOrZeroReadersAnswersOnTheEngineThread) {
  Engine memory(":memory:");
  Dispatcher dispatcher(memory, {});
  EXPECT_EQ(EngineWorker(memory, dispatcher, {}, 2).reader_threads(), 0u);
  std::string path = test_support::temp_path("readers", "off.db");
  test_support::TempFiles files({path});
  Engine file(path);
  Dispatcher file_dispatcher(file, {});
  EXPECT_EQ(EngineWorker(file, file_dispatcher, {}, 0).reader_threads(), 0u);
  EXPECT_EQ(EngineWorker(file, file_dispatcher, {}, 3).reader_threads(), 3u);
}

}  // namespace
}  // namespace verdict::server
