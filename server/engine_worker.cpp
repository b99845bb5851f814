#include "server/engine_worker.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "core/log.hpp"
#include "core/sqlite.hpp"
#include "server/error_mapping.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLinesPerBatch = 4096;

// The reply to a request whose batch failed to commit; empty for notifications.
std::string error_reply_for(const std::string& line, const RpcError& error) {
  json::parse_options options;
  options.max_depth = 64;
  std::error_code ec;
  json::value request = json::parse(line, ec, {}, options);
  if (ec || !request.is_object()) return {};
  const auto* id = request.get_object().if_contains("id");
  if (!id || id->is_null()) return {};
  return error_response(*id, error) + "\n";
}

std::size_t bytes_of(const std::vector<LineFramer::Frame>& frames) {
  std::size_t bytes = 0;
  for (const auto& frame : frames) bytes += frame.line.size();
  return bytes;
}

}  // namespace

EngineWorker::EngineWorker(Engine& engine, Dispatcher& dispatcher, const ConnectionLimits& limits)
    : engine_(engine), dispatcher_(dispatcher), limits_(limits) {}

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

void EngineWorker::resume(std::shared_ptr<Channel> channel) {
  {
    std::lock_guard lock(mutex_);
    resumed_.push_back(std::move(channel));
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
  // Scheduled work that fell due while the server was down runs before the first request.
  std::optional<Clock::time_point> due = engine_.idle();
  for (;;) {
    std::vector<Job> jobs;
    std::deque<std::function<void()>> tasks;
    std::vector<std::shared_ptr<Channel>> resumed;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [this] {
        return stopping_ || !jobs_.empty() || !tasks_.empty() || !resumed_.empty();
      };
      if (due) {
        // Bounded, so that the engine's clock is read again at least once a second (the system
        // clock may be set back or forth meanwhile).
        const Clock::duration left = *due - engine_.clock().now();
        wake_.wait_for(
            lock,
            std::clamp(left, Clock::duration::zero(), Clock::duration(std::chrono::seconds(1))),
            ready);
      } else {
        wake_.wait(lock, ready);
      }
      if (!ready()) {
        lock.unlock();
        due = engine_.idle();
        continue;
      }
      tasks.swap(tasks_);
      resumed.swap(resumed_);
      std::size_t lines = 0;
      while (!jobs_.empty() && lines < kMaxLinesPerBatch) {
        lines += jobs_.front().frames.size();
        jobs.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      if (jobs.empty() && tasks.empty() && resumed.empty() && stopping_) return;
    }
    for (auto& task : tasks) {
      try {
        task();
      } catch (const std::exception& error) {
        log(LogLevel::kError, std::string("engine task failed: ") + error.what());
      }
    }
    // Parked lines are older than anything the same channel queued since: they go first.
    std::vector<Job> batch;
    for (const auto& channel : resumed) {
      auto parked = parked_.find(channel.get());
      if (parked == parked_.end()) continue;
      batch.push_back(std::move(parked->second));
      parked_.erase(parked);
    }
    for (auto& job : jobs) batch.push_back(std::move(job));
    if (!batch.empty()) process(batch);
    due = engine_.idle();
  }
}

void EngineWorker::process(std::vector<Job>& jobs) {
  std::vector<std::string> replies(jobs.size());
  std::vector<bool> close(jobs.size(), false);
  std::vector<std::size_t> done(jobs.size(), 0);  // frames run, or skipped after a close
  bool committed = false;
  std::string failure;
  // Replies of this batch per channel, which count against its budget with its unsent bytes.
  std::unordered_map<const Channel*, std::size_t> batch_output;
  // A channel with parked lines keeps its order: everything newer waits behind them, whether
  // they were parked before this batch or by an earlier job of it.
  auto park_behind = [this](Job& job) {
    auto parked = parked_.find(job.channel.get());
    if (parked == parked_.end()) return false;
    auto& frames = parked->second.frames;
    std::move(job.frames.begin(), job.frames.end(), std::back_inserter(frames));
    job.frames.clear();
    return true;
  };
  std::size_t reached = 0;  // jobs the loop below has started (all of them unless it threw)
  try {
    sqlite::Transaction transaction(engine_.store().db());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      reached = i + 1;
      if (park_behind(jobs[i])) continue;
      auto& channel = *jobs[i].channel;
      std::size_t& output = batch_output[&channel];
      for (const auto& frame : jobs[i].frames) {
        if (close[i]) {
          ++done[i];
          continue;
        }
        if (channel.unsent_bytes() + output > limits_.output_bytes_per_connection) break;
        ++done[i];
        if (frame.oversized) {
          std::string line = Dispatcher::oversized_reply(limits_.max_message_bytes) + "\n";
          output += line.size();
          replies[i] += line;
          continue;
        }
        Reply reply = dispatcher_.handle_line(frame.line, channel.session_for_next_line());
        // On a full disk or an I/O error while spilling pages, SQLite rolls the whole
        // transaction back by itself: what this batch did so far is gone, and later lines
        // would run in autocommit mode, saved while their replies say nothing was.
        if (!engine_.store().db().in_transaction())
          throw sqlite::StorageError(SQLITE_IOERR,
                                     "the database could not write (disk full or I/O error), "
                                     "so SQLite rolled the transaction back");
        if (!reply.line.empty()) {
          output += reply.line.size() + 1;
          replies[i] += reply.line + "\n";
        }
        close[i] = reply.close;
      }
      if (done[i] < jobs[i].frames.size()) {
        auto& frames = jobs[i].frames;
        parked_[&channel] = {jobs[i].channel, std::vector<LineFramer::Frame>(
                                                  std::make_move_iterator(frames.begin() + done[i]),
                                                  std::make_move_iterator(frames.end()))};
        frames.resize(done[i]);
      }
    }
    transaction.commit();
    committed = true;
  } catch (const std::exception& error) {
    failure = error.what();
    for (std::size_t i = reached; i < jobs.size(); ++i) park_behind(jobs[i]);
  }
  RpcError storage_error;
  if (!committed)
    storage_error = internal_error("storage failure, nothing in this request was saved", failure);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& channel = *jobs[i].channel;
    if (jobs[i].frames.empty()) continue;  // parked behind earlier lines
    if (!committed) {
      // Every line of the batch that was not parked fails, run or not: nothing was saved.
      done[i] = jobs[i].frames.size();
      replies[i].clear();
      for (const auto& frame : jobs[i].frames)
        if (!frame.oversized) replies[i] += error_reply_for(frame.line, storage_error);
    }
    if (!replies[i].empty()) channel.send(std::move(replies[i]));
    if (close[i]) channel.close_after_send();
    channel.answered({.lines = done[i],
                      .bytes = bytes_of(jobs[i].frames),
                      .authenticated = channel.session.authenticated});
  }
  // Parked only now that this batch's replies count as unsent: if the client has read them in
  // the meantime, no transport event will come, so resume here.
  for (auto& [channel, job] : parked_) {
    if (job.channel->exchange_parked(true)) continue;
    if (job.channel->unsent_bytes() <= limits_.output_bytes_per_connection &&
        job.channel->exchange_parked(false))
      resume(job.channel);
  }
}

}  // namespace verdict::server
