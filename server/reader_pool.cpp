#include "server/reader_pool.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/storage/connection.hpp"

namespace verdict::server {

/// One snapshot for a series of reads, ended when it goes. On SQLite a deferred `BEGIN`: the
/// first statement takes a read lock and nothing takes a write lock (outside one, every
/// statement takes and drops the WAL read lock itself). PostgreSQL's default isolation takes a
/// snapshot per statement; REPEATABLE READ keeps the first one for the whole series.
class ReaderPool::ReadTransaction {
 public:
  explicit ReadTransaction(storage::Connection& database) : db_(database) {
    db_.prepare(db_.backend() == storage::Backend::kSqlite
                    ? "BEGIN"
                    : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .run();
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() {
    // Destructors never throw; an interrupted query may have ended the transaction already.
    if (!db_.in_transaction()) return;
    try {
      db_.prepare("COMMIT").run();
    } catch (const storage::StorageError&) {
    }
  }

 private:
  storage::Connection& db_;
};

ReaderPool::Seat::Seat(bool keeps_snapshot) : keeps_snapshot_(keeps_snapshot) {}

ReaderPool::Seat::~Seat() = default;

void ReaderPool::Seat::end_read() {
  stamp_.reset();
  read_.reset();
}

std::chrono::steady_clock::duration ReaderPool::Seat::time_left(
    std::uint64_t engine_writes, std::chrono::steady_clock::time_point now) const {
  if (!read_ || read_began_after_ != engine_writes) return {};
  return std::max(read_began_at_ + kMaxSnapshotAge - now, std::chrono::steady_clock::duration{});
}

ReaderPool::ReaderPool(std::size_t threads, std::string path, DispatcherOptions options,
                       std::chrono::milliseconds timeout, const ConnectionLimits& limits,
                       Finished finished)
    : thread_count_(threads),
      path_(std::move(path)),
      options_(std::move(options)),
      timeout_(timeout),
      limits_(limits),
      finished_(std::move(finished)) {}

ReaderPool::~ReaderPool() {
  stop();
}

void ReaderPool::publish(Engine& engine) {
  std::uint64_t generation = engine.schema().generation();
  if (snapshot_ && generation == published_generation_) return;
  auto snapshot = std::make_shared<const Snapshot>(
      Snapshot{engine.schema().data_copy(), engine.store().row_sources()});
  published_generation_ = generation;
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
}

void ReaderPool::start() {
  for (std::size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { run(); });
}

void ReaderPool::submit(LineJob job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void ReaderPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

void ReaderPool::refresh(Seat& seat) {
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = snapshot_;
  }
  if (seat.snapshot_ == snapshot) return;
  // The transaction first, on the connection it began on; then the dispatcher, which holds the
  // engine it was built on.
  seat.end_read();
  seat.dispatcher_.reset();
  seat.engine_.reset();
  seat.snapshot_.reset();
  auto engine =
      std::make_unique<Engine>(path_, snapshot->schema.data_copy(), snapshot->row_sources);
  engine->store().db().set_query_timeout(timeout_);
  seat.dispatcher_ = std::make_unique<Dispatcher>(*engine, options_);
  seat.engine_ = std::move(engine);
  seat.snapshot_ = std::move(snapshot);
}

void ReaderPool::run() {
  Seat seat;
  for (;;) {
    LineJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    answer(seat, std::move(job));
  }
}

void ReaderPool::begin_read(Seat& seat) {
  // Read before the transaction begins (and so before its first statement takes the snapshot):
  // a commit counted here is in the snapshot, and one counted later starts the next.
  const std::uint64_t writes = engine_writes_.load(std::memory_order_acquire);
  storage::Connection& db = seat.engine_->store().db();
  auto now = std::chrono::steady_clock::now();
  // A statement stopped by its query budget may have ended the transaction.
  if (seat.time_left(writes, now) > std::chrono::steady_clock::duration{} && db.in_transaction())
    return;
  seat.end_read();
  seat.read_ = std::make_unique<ReadTransaction>(db);
  seat.stamp_.emplace(db);
  seat.read_began_after_ = writes;
  seat.read_began_at_ = now;
}

void ReaderPool::release(Seat& seat) {
  seat.end_read();
}

std::chrono::milliseconds ReaderPool::snapshot_time_left(const Seat& seat) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(seat.time_left(
      engine_writes_.load(std::memory_order_acquire), std::chrono::steady_clock::now()));
}

void ReaderPool::answer(Seat& seat, LineJob job) {
  try {
    refresh(seat);
    // One read lock for the run instead of one per statement: the run starts after the
    // channel's writes were committed (and counted by engine_wrote), so it sees them.
    begin_read(seat);
  } catch (const std::exception& error) {
    log(LogLevel::kError,
        std::string("a reader thread cannot open the database, so the engine thread answers "
                    "every request: ") +
            error.what());
    finished_(std::move(job), true);
    return;
  }
  Answers answers;
  std::size_t output = 0;
  answer_lines(*seat.dispatcher_, job, limits_.output_bytes_per_connection,
               limits_.max_message_bytes, output, answers);
  if (!seat.keeps_snapshot_) seat.end_read();
  lines_answered_.fetch_add(answers.done, std::memory_order_relaxed);
  deliver(job, answers);
  LineJob leftover{job.channel, {}};
  leftover.frames.assign(std::make_move_iterator(job.frames.begin() + answers.done),
                         std::make_move_iterator(job.frames.end()));
  finished_(std::move(leftover), false);
}

}  // namespace verdict::server
