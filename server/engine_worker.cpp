#include "server/engine_worker.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/sqlite.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLinesPerBatch = 4096;

// The id of a request whose reply must become an error after a failed commit.
std::string error_reply_for(const std::string& line, const std::string& message) {
  json::parse_options options;
  options.max_depth = 64;
  std::error_code ec;
  json::value request = json::parse(line, ec, {}, options);
  if (ec || !request.is_object()) return {};
  const auto* id = request.get_object().if_contains("id");
  if (!id || id->is_null()) return {};
  json::object reply{
      {"jsonrpc", "2.0"}, {"id", *id}, {"error", {{"code", -32603}, {"message", message}}}};
  return json::serialize(reply) + "\n";
}

}  // namespace

EngineWorker::EngineWorker(Engine& engine, Dispatcher& dispatcher, std::size_t max_message_bytes)
    : engine_(engine), dispatcher_(dispatcher), max_message_bytes_(max_message_bytes) {}

EngineWorker::~EngineWorker() {
  stop();
}

void EngineWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void EngineWorker::submit(std::shared_ptr<Channel> channel, std::vector<LineFramer::Frame> frames) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::move(channel), std::move(frames)});
  }
  wake_.notify_one();
}

void EngineWorker::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void EngineWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineWorker::run() {
  for (;;) {
    std::vector<Job> jobs;
    std::deque<std::function<void()>> tasks;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty() || !tasks_.empty(); });
      tasks.swap(tasks_);
      std::size_t lines = 0;
      while (!jobs_.empty() && lines < kMaxLinesPerBatch) {
        lines += jobs_.front().frames.size();
        jobs.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      if (jobs.empty() && tasks.empty() && stopping_) return;
    }
    for (auto& task : tasks) {
      try {
        task();
      } catch (const std::exception& error) {
        log(LogLevel::kError, std::string("engine task failed: ") + error.what());
      }
    }
    if (!jobs.empty()) process(jobs);
    engine_.idle();
  }
}

void EngineWorker::process(std::vector<Job>& jobs) {
  std::vector<std::string> replies(jobs.size());
  std::vector<bool> close(jobs.size(), false);
  bool committed = false;
  std::string failure;
  try {
    sqlite::Transaction transaction(engine_.store().db());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      for (const auto& frame : jobs[i].frames) {
        if (close[i]) break;
        if (frame.oversized) {
          replies[i] += Dispatcher::oversized_reply(max_message_bytes_) + "\n";
          continue;
        }
        Reply reply = dispatcher_.handle_line(frame.line, jobs[i].channel->session_for_next_line());
        // On a full disk or an I/O error while spilling pages, SQLite rolls the whole
        // transaction back by itself: what this batch did so far is gone, and later lines
        // would run in autocommit mode, saved while their replies say nothing was.
        if (!engine_.store().db().in_transaction())
          throw sqlite::StorageError(SQLITE_IOERR,
                                     "the database could not write (disk full or I/O error), "
                                     "so SQLite rolled the transaction back");
        if (!reply.line.empty()) replies[i] += reply.line + "\n";
        close[i] = reply.close;
      }
    }
    transaction.commit();
    committed = true;
  } catch (const std::exception& error) {
    failure = std::string("storage failure, nothing in this request was saved: ") + error.what();
    log(LogLevel::kError, failure);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& channel = *jobs[i].channel;
    if (!committed) {
      replies[i].clear();
      for (const auto& frame : jobs[i].frames)
        if (!frame.oversized) replies[i] += error_reply_for(frame.line, failure);
    }
    if (!replies[i].empty()) channel.send(std::move(replies[i]));
    if (close[i]) channel.close_after_send();
    channel.answered(jobs[i].frames.size());
  }
}

}  // namespace verdict::server
