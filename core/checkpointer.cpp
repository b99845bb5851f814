#include "core/checkpointer.hpp"

#include "core/log.hpp"
#include "core/sqlite.hpp"

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
    sqlite::Database db(path);
    std::unique_lock lock(mutex_);
    for (;;) {
      bool stopping = wake_.wait_for(lock, interval_, [this] { return stopping_; });
      lock.unlock();
      int log_frames = 0, checkpointed = 0;
      int rc = sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         &log_frames, &checkpointed);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log(LogLevel::kWarning, std::string("checkpoint failed: ") + sqlite3_errmsg(db.handle()));
      lock.lock();
      if (stopping) return;
    }
  } catch (const std::exception& error) {
    log(LogLevel::kError, std::string("checkpointer stopped: ") + error.what());
  }
}

}  // namespace verdict
