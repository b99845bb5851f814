#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace verdict {

/// Copies WAL frames back into the database file from a thread of its own (PASSIVE checkpoints,
/// which never block the writer). SQLite's automatic checkpoint still runs inside the commit that
/// crosses its threshold, because only a checkpoint by the writer lets the WAL restart instead of
/// growing; with this thread ahead of it, that checkpoint finds almost nothing left to copy.
class Checkpointer {
 public:
  /// Opens its own connection to `path` (a file database) and checkpoints every `interval`.
  Checkpointer(const std::string& path, std::chrono::milliseconds interval);
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  /// Stops the thread after one last checkpoint.
  ~Checkpointer();

 private:
  void run(std::string path);

  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace verdict
