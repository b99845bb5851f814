#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/engine.hpp"
#include "server/channel.hpp"
#include "server/dispatcher.hpp"
#include "server/limits.hpp"

namespace verdict::server {

/// Threads that answer read-only lines (read_classifier.hpp) beside the engine thread. Each
/// owns an Engine and a Dispatcher over its own read-only connection to the engine's WAL file,
/// so reads run in parallel with each other and with the engine's writes; every statement reads
/// the last committed state. The schema they use is the engine's, copied (publish) whenever it
/// grows (a hook reload's fields and verbs). EngineWorker decides which lines come here and
/// keeps each channel on one thread at a time.
class ReaderPool {
  /// What the readers build their engines from: a data copy of the engine's schema.
  struct Snapshot {
    Schema schema;
    Store::RowSources row_sources;
  };
  class ReadTransaction;

 public:
  /// Called on the reader thread once a job is over, with the lines it did not run (the output
  /// budget was reached) and whether the reader could not run any (it failed to open).
  using Finished = std::function<void(LineJob leftover, bool failed)>;

  /// `path` is the engine's file; `options` its dispatcher's (without the token, which the
  /// engine has adopted already); `timeout` its query budget.
  ReaderPool(std::size_t threads, std::string path, DispatcherOptions options,
             std::chrono::milliseconds timeout, const ConnectionLimits& limits, Finished finished);
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  /// Copies `engine`'s schema and row sources for the readers if the schema changed since the
  /// last call. Call on the thread that owns `engine`, between its batches, and before start().
  void publish(Engine& engine);
  void start();
  /// A reader's own engine and dispatcher over its read-only connection, built on first use and
  /// rebuilt when a newer schema is published. Each pool thread has one; a transport thread
  /// that serves a single channel (stdio's) may hold one too, and answer that channel's reads
  /// itself (answer), since handing them to a pool thread and back costs more than the read.
  class Seat {
   public:
    /// `keeps_snapshot`: the read transaction a job opens stays open for the jobs after it,
    /// until release(), until the engine thread may have committed since (engine_wrote), or
    /// for kMaxSnapshotAge at most, so that a thread answering many runs of reads in a row (the
    /// I/O thread's lookups, stdin's runs) pays SQLite's read lock and unlock, two
    /// fcntl(2) calls, once per round instead of per run. The age bounds how long a busy seat
    /// keeps another process's commit from it and holds back a WAL checkpoint.
    explicit Seat(bool keeps_snapshot = false);
    ~Seat();
    Seat(const Seat&) = delete;
    Seat& operator=(const Seat&) = delete;

   private:
    friend class ReaderPool;
    const bool keeps_snapshot_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<Dispatcher> dispatcher_;  ///< after engine_: destroyed first, it holds it
    std::unique_ptr<ReadTransaction> read_;   ///< after engine_: ended before its connection
    /// Taken with read_ and let go before it: nothing the seat reads can change inside one read
    /// transaction, so its stamp (a `PRAGMA data_version`, the entity cache's check) is read
    /// once per transaction rather than once per run, which for the I/O thread's lookups is once
    /// per read.
    std::optional<storage::Connection::StampHold> stamp_;
    std::uint64_t read_began_after_ = 0;  ///< engine_writes_ when read_ began
    std::chrono::steady_clock::time_point read_began_at_;

    void end_read();
    /// How much longer the open read may serve: none without one, once the engine thread
    /// has committed since it began (`engine_writes` counts the commits), or past
    /// kMaxSnapshotAge.
    std::chrono::steady_clock::duration time_left(std::uint64_t engine_writes,
                                                  std::chrono::steady_clock::time_point now) const;
  };
  static constexpr std::chrono::milliseconds kMaxSnapshotAge{20};

  /// Queues a job. Thread-safe.
  void submit(LineJob job);
  /// Answers `job` on the calling thread in `seat`, then reports it as a pool thread does
  /// (Finished). Thread-safe for distinct seats.
  void answer(Seat& seat, LineJob job);
  /// Ends the read transaction a keeps_snapshot seat kept open, so that nothing reads from an
  /// old snapshot for long (another process's commit, a checkpoint that waits for readers). Call
  /// on the thread that uses the seat, once its round of jobs is over.
  void release(Seat& seat);
  /// How much longer the snapshot `seat` keeps may be reused (zero when it keeps none, or one
  /// the engine's commits made stale): a transport that expects input that soon may wait with
  /// it instead of releasing it and beginning the next read again. Call on the seat's thread.
  std::chrono::milliseconds snapshot_time_left(const Seat& seat) const;
  /// The engine thread may have committed: the next job on any seat reads in a new snapshot.
  /// Call on the engine thread after each commit, before the replies that announce it go out.
  void engine_wrote() { engine_writes_.fetch_add(1, std::memory_order_release); }
  /// Runs every queued job, then joins the threads. Thread-safe; idempotent.
  void stop();
  std::size_t threads() const { return thread_count_; }
  /// Lines answered by the readers so far (tests and benchmarks). Thread-safe.
  std::uint64_t lines_answered() const { return lines_answered_.load(std::memory_order_relaxed); }

 private:
  void run();
  void refresh(Seat& seat);
  /// Opens the seat's read transaction, or keeps the one it kept if it is still current.
  void begin_read(Seat& seat);

  const std::size_t thread_count_;
  const std::string path_;
  const DispatcherOptions options_;
  const std::chrono::milliseconds timeout_;
  const ConnectionLimits limits_;
  const Finished finished_;
  std::uint64_t published_generation_ = 0;  ///< the engine's thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<LineJob> jobs_;
  std::shared_ptr<const Snapshot> snapshot_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> lines_answered_{0};
  std::atomic<std::uint64_t> engine_writes_{0};
};

}  // namespace verdict::server
