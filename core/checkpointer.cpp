#include "core/checkpointer.hpp"

#include "core/log.hpp"
#include "core/storage/sqlite_connection.hpp"

namespace verdict {

Checkpointer::Checkpointer(const std::string& path, std::chrono::milliseconds interval)
    : interval_(interval), thread_([this, path] { run(path); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::run(std::string path) {
  try {
    storage::SqliteConnection db(path);
    std::unique_lock lock(mutex_);
    for (;;) {
      bool stopping = wake_.wait_for(lock, interval_, [this] { return stopping_; });
      lock.unlock();
      if (auto failure = db.checkpoint()) log(LogLevel::kWarning, "checkpoint failed: " + *failure);
      lock.lock();
      if (stopping) return;
    }
  } catch (const std::exception& error) {
    log(LogLevel::kError, std::string("checkpointer stopped: ") + error.what());
  }
}

}  // namespace verdict
