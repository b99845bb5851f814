#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/channel.hpp"
#include "server/dispatcher.hpp"
#include "server/line_framer.hpp"

namespace verdict::server {

/// The one thread that owns the Engine (SQLite, Lua). Transports hand it framed lines; it
/// answers them in arrival order. Lines that arrive together are answered inside one SQLite
/// transaction and acknowledged only after it commits (group commit): each verb still runs in
/// its own savepoint, so a failed verb changes nothing, and a commit failure turns every reply
/// of the batch into an error.
class EngineWorker {
 public:
  EngineWorker(Engine& engine, Dispatcher& dispatcher, std::size_t max_message_bytes);
  ~EngineWorker();

  void start();
  /// Queues lines from one channel. Thread-safe.
  void submit(std::shared_ptr<Channel> channel, std::vector<LineFramer::Frame> frames);
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
  std::size_t max_message_bytes_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace verdict::server
