#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/channel.hpp"
#include "server/dispatcher.hpp"
#include "server/limits.hpp"
#include "server/line_framer.hpp"

namespace verdict::server {

/// The one thread that owns the Engine (SQLite, Lua). Transports hand it framed lines; it
/// answers them in arrival order. Lines that arrive together are answered inside one SQLite
/// transaction and acknowledged only after it commits (group commit): each verb still runs in
/// its own savepoint, so a failed verb changes nothing, and a commit failure turns every reply
/// of the batch into an error.
///
/// Output budget: once a channel's unsent replies (plus those of the current batch) pass
/// `limits.output_bytes_per_connection`, its remaining lines are parked, in order, and run only
/// after the transport calls resume(), so a client that never reads costs at most the budget
/// plus one reply.
class EngineWorker {
 public:
  EngineWorker(Engine& engine, Dispatcher& dispatcher, const ConnectionLimits& limits);
  ~EngineWorker();

  void start();
  /// Queues lines from one channel. Thread-safe.
  void submit(std::shared_ptr<Channel> channel, std::vector<LineFramer::Frame> frames);
  /// The channel's output drained below the budget (or it closed): run its parked lines.
  /// Thread-safe.
  void resume(std::shared_ptr<Channel> channel);
  /// Runs `task` on the engine thread between batches (hook reload). Thread-safe.
  void post(std::function<void()> task);
  /// Answers everything already queued, then stops the thread. Thread-safe; idempotent.
  void stop();

 private:
  struct Job {
    std::shared_ptr<Channel> channel;
    std::vector<LineFramer::Frame> frames;
  };
  void run();
  void process(std::vector<Job>& jobs);

  Engine& engine_;
  Dispatcher& dispatcher_;
  const ConnectionLimits limits_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::vector<std::shared_ptr<Channel>> resumed_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
  /// Lines held back by the output budget, per channel; engine thread only.
  std::unordered_map<const Channel*, Job> parked_;
};

}  // namespace verdict::server
