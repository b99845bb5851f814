#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/storage/connection.hpp"
#include "server/channel.hpp"
#include "server/dispatcher.hpp"
#include "server/limits.hpp"
#include "server/line_framer.hpp"
#include "server/read_classifier.hpp"
#include "server/reader_pool.hpp"

namespace verdict::server {

/// The one thread that owns the Engine (SQLite, Lua). Transports hand it framed lines; it
/// answers them in arrival order. Lines that arrive together are answered inside one SQLite
/// transaction and acknowledged only after it commits (group commit): each verb still runs in
/// its own savepoint, so a failed verb changes nothing, and a commit failure turns every reply
/// of the batch into an error.
///
/// Reads in parallel: with reader threads (a ReaderPool), lines that only read
/// (read_classifier.hpp: get, find, ping, resources/read) are answered there, over read-only
/// connections to the same WAL file, while everything else keeps this thread and its group
/// commit. A channel's lines are split into runs of reads and of other lines, and a run starts
/// only once the channel's previous run is answered, so a channel is never on two threads at
/// once, its replies keep their order, and a read sees every write the channel sent before it
/// (the engine replies only after its commit). A channel whose session is shared
/// (Channel::owns_session) stays on the engine thread.
///
/// Output budget: once a channel's unsent replies (plus those of the current batch) pass
/// `limits.output_bytes_per_connection`, its remaining lines are parked, in order, and run only
/// after the transport calls resume(), so a client that never reads costs at most the budget
/// plus one reply. Reader threads park a channel's lines the same way.
class EngineWorker {
 public:
  /// `readers`: how many reader threads; 0, or a database without a file (":memory:"), answers
  /// every line on the engine thread.
  EngineWorker(Engine& engine, Dispatcher& dispatcher, const ConnectionLimits& limits,
               std::size_t readers = 0);
  ~EngineWorker();

  void start();
  /// How the dispatcher parses lines, for a transport's LineFramer to parse them as it frames
  /// them (a frame parsed there is not parsed again).
  boost::json::parse_options parse_options() const { return dispatcher_.parse_options(); }
  /// Queues lines from one channel, parsing those not parsed yet. Thread-safe. With a `seat` (from
  /// seat()), reads that may run at once are answered on the calling thread before submit returns,
  /// instead of on a reader thread: for a transport thread that serves a single channel (stdio),
  /// the hand-over to a reader and back costs more than the read.
  void submit(std::shared_ptr<Channel> channel, std::vector<LineFramer::Frame> frames,
              ReaderPool::Seat* seat = nullptr);
  /// From now on the calling thread (the transports' I/O thread) answers a run of lookups
  /// (Access::kLookup: `get`s, up to 64 of them, with nothing of their channel before them still
  /// unanswered) itself, when it submits it, instead of waking a reader thread for it and being
  /// woken again by the reply: each is a read by key of a few microseconds, and the two wake-ups
  /// cost more. `find`s (which may scan up to the query budget) and longer runs still go to the
  /// reader threads, where they run in parallel. Call once, before any transport submits; a
  /// no-op without readers and on PostgreSQL, whose reads wait on the network.
  ///
  /// Consecutive runs of lookups share one read transaction (ReaderPool::Seat's keeps_snapshot)
  /// until the engine thread commits or the round ends: `after_round` must run the task it is
  /// given on this thread once the work already queued there is done (asio::post to the
  /// thread's io_context), so a snapshot never outlives the round it was taken in.
  using AfterRound = std::function<void(std::function<void()>)>;
  void answer_lookups_here(AfterRound after_round);
  /// A seat for submit, or null when every line runs on the engine thread. On SQLite it keeps
  /// its read snapshot from one run to the next (ReaderPool::Seat's keeps_snapshot) until
  /// release(). Not on PostgreSQL: there the entity cache's stamp counts other nodes' commits as
  /// their notifications arrive, not as the snapshot sees them, so a later run in an old snapshot
  /// would cache old rows under a newer stamp (a SQLite stamp stays with its snapshot).
  std::unique_ptr<ReaderPool::Seat> seat() const {
    if (!readers_) return nullptr;
    return std::make_unique<ReaderPool::Seat>(engine_.store().db().backend() ==
                                              storage::Backend::kSqlite);
  }
  /// Ends the read snapshot `seat` keeps between runs; the transport calls it before it waits
  /// for input, so that an idle seat holds no snapshot. Call on the seat's thread.
  void release(ReaderPool::Seat& seat) const { readers_->release(seat); }
  /// ReaderPool::snapshot_time_left.
  std::chrono::milliseconds snapshot_time_left(const ReaderPool::Seat& seat) const {
    return readers_->snapshot_time_left(seat);
  }
  /// The channel's output drained below the budget (or it closed): run its parked lines.
  /// Thread-safe.
  void resume(std::shared_ptr<Channel> channel);
  /// Runs `task` on the engine thread between batches (hook reload). Thread-safe.
  void post(std::function<void()> task);
  /// Answers everything already queued, then stops the threads. Thread-safe; idempotent.
  void stop();
  /// Reader threads in use (0: every line runs on the engine thread).
  std::size_t reader_threads() const { return readers_ ? readers_->threads() : 0; }
  /// Lines the reader threads have answered so far. Thread-safe.
  std::uint64_t lines_read() const { return readers_ ? readers_->lines_answered() : 0; }

 private:
  /// Parses the lines not parsed yet (a transport's LineFramer parses its own as it frames them)
  /// on the calling thread, so that the thread answering them does not.
  void parse(std::vector<LineFramer::Frame>& frames) const {
    for (auto& frame : frames) dispatcher_.parse(frame);
  }
  using Job = LineJob;
  /// A channel's lines not yet answered, while readers are on; guarded by route_mutex_.
  struct Route {
    std::shared_ptr<Channel> channel;
    std::size_t engine_lines = 0;  ///< queued, running or parked on the engine thread
    bool reading = false;          ///< a run is queued or running on a reader thread
    bool held = false;             ///< a reader parked the run at the front of `pending`
    /// Lines waiting for the channel's current run to end, each with where it may be answered.
    std::deque<std::pair<LineFramer::Frame, Access>> pending;
  };
  void run();
  void process(std::vector<Job>& jobs);
  void submit_to_engine(Job job);
  void resume_engine(std::shared_ptr<Channel> channel);
  /// Starts the channel's next runs while they may start; erases the route once nothing is left.
  /// With `here`, a read run is moved there for the caller to answer instead of going to a
  /// reader thread.
  /// `lookups_only`: only a run of lookups that answered_here accepts goes to `here`.
  void pump(std::unordered_map<const Channel*, Route>::iterator route, Job* here = nullptr,
            bool lookups_only = false);
  /// The engine answered `lines` of the channel (engine thread).
  void engine_answered(const Channel& channel, std::size_t lines);
  /// A reader's run is over (reader thread).
  void reader_finished(Job leftover, bool failed);
  /// Marks a channel whose lines wait for its output to drain, resuming it at once if it
  /// already has.
  void mark_parked(const std::shared_ptr<Channel>& channel);

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

  std::unique_ptr<ReaderPool> readers_;
  /// The thread of answer_lookups_here and its seat; set before any transport submits.
  std::thread::id lookups_thread_;
  std::unique_ptr<ReaderPool::Seat> lookups_seat_;
  AfterRound after_round_;
  bool release_queued_ = false;  ///< lookups_thread_ only
  std::condition_variable started_;
  bool readers_ready_ = false;  ///< the engine thread's first idle() ran; guarded by mutex_
  std::mutex route_mutex_;      ///< taken before mutex_ when both are
  std::unordered_map<const Channel*, Route> routes_;
  bool routes_stopping_ = false;  ///< every run goes to the engine thread
  bool readers_failed_ = false;   ///< a reader could not open the file: likewise
};

}  // namespace verdict::server
