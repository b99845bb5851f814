#include "server/engine_worker.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "core/log.hpp"
#include "core/storage/connection.hpp"
#include "server/error_mapping.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLinesPerBatch = 4096;

// The longest run of lookups the I/O thread answers itself (answer_lookups_here): each is a read
// by key of a few microseconds, so a run this long holds the thread's other connections back by
// a few hundred at most.
constexpr std::size_t kMaxLookupsHere = 64;

bool answered_here(std::size_t lines, bool all_lookups) {
  return all_lookups && lines <= kMaxLookupsHere;
}

// The reply to a request whose batch failed to commit; empty for notifications.
// What a line is answered when its storage failed: a whole batch, or one line's savepoint.
constexpr const char* kNothingSaved = "storage failure, nothing in this request was saved";

std::string error_reply_for(const LineFramer::Frame& frame, const RpcError& error) {
  json::value unparsed;
  if (!frame.parsed) {
    json::parse_options options;
    options.max_depth = 64;
    std::error_code ec;
    unparsed = json::parse(frame.line, ec, {}, options);
  }
  const json::value& request = frame.parsed ? frame.parsed->message : unparsed;
  if (!request.is_object()) return {};
  const auto* id = request.get_object().if_contains("id");
  if (!id || id->is_null()) return {};
  return error_response(*id, error) + "\n";
}

}  // namespace

EngineWorker::EngineWorker(Engine& engine, Dispatcher& dispatcher, const ConnectionLimits& limits,
                           std::size_t readers)
    : engine_(engine), dispatcher_(dispatcher), limits_(limits) {
  std::string path = engine.store().db().shared_location();
  if (readers == 0 || path.empty()) return;
  DispatcherOptions options = dispatcher.options();
  options.token.clear();  // adopted as a key by the engine's dispatcher; readers only read keys
  readers_ = std::make_unique<ReaderPool>(
      readers, path, std::move(options), engine.store().db().query_timeout(), limits,
      [this](Job leftover, bool failed) { reader_finished(std::move(leftover), failed); });
}

EngineWorker::~EngineWorker() {
  stop();
}

void EngineWorker::start() {
  thread_ = std::thread([this] { run(); });
  if (!readers_) return;
  // Scheduled work that fell due while the server was down is done before any reader answers.
  std::unique_lock lock(mutex_);
  started_.wait(lock, [this] { return readers_ready_; });
  readers_->start();
}

void EngineWorker::submit(std::shared_ptr<Channel> channel, std::vector<LineFramer::Frame> frames,
                          ReaderPool::Seat* seat) {
  parse(frames);
  if (!readers_ || !channel->owns_session())
    return submit_to_engine({std::move(channel), std::move(frames)});
  // Inline for the usual run (an HTTP request is one line): no allocation per submit.
  boost::container::small_vector<Access, 64> access(frames.size(), Access::kEngine);
  bool all_lookups = true;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].parsed && !frames[i].parsed->error)
      access[i] = access_of(frames[i].parsed->message);
    all_lookups = all_lookups && access[i] == Access::kLookup;
  }
  bool lookups_only = false;
  if (!seat && lookups_seat_ && std::this_thread::get_id() == lookups_thread_) {
    seat = lookups_seat_.get();
    lookups_only = true;
  }
  Job here;
  {
    std::lock_guard lock(route_mutex_);
    if (lookups_only && answered_here(frames.size(), all_lookups) && !routes_stopping_ &&
        !readers_failed_ && !routes_.contains(channel.get())) {
      // Nothing of the channel's is waiting or running, and only this thread submits its lines:
      // the lookups are answered here without a route, whose node and queue an HTTP request (a
      // channel of its own) would allocate and free each time. reader_finished makes one if
      // they leave anything behind.
      here = Job{std::move(channel), std::move(frames)};
    } else {
      auto route = routes_.try_emplace(channel.get()).first;
      if (!route->second.channel) route->second.channel = std::move(channel);
      for (std::size_t i = 0; i < frames.size(); ++i)
        route->second.pending.emplace_back(std::move(frames[i]), access[i]);
      pump(route, seat ? &here : nullptr, lookups_only);
    }
  }
  if (!here.channel) return;
  readers_->answer(*seat, std::move(here));
  if (seat == lookups_seat_.get() && !release_queued_) {
    release_queued_ = true;
    after_round_([this] {
      release_queued_ = false;
      readers_->release(*lookups_seat_);
    });
  }
}

void EngineWorker::answer_lookups_here(AfterRound after_round) {
  // A PostgreSQL read is a round trip at least (the snapshot's BEGIN and COMMIT), which the
  // I/O thread must not wait for; a SQLite file is read in microseconds.
  if (!readers_ || engine_.store().db().backend() != storage::Backend::kSqlite) return;
  lookups_thread_ = std::this_thread::get_id();
  lookups_seat_ = std::make_unique<ReaderPool::Seat>(true);
  after_round_ = std::move(after_round);
}

void EngineWorker::pump(std::unordered_map<const Channel*, Route>::iterator it, Job* here,
                        bool lookups_only) {
  Route& route = it->second;
  while (!route.pending.empty() && !route.held && !route.reading) {
    bool everything_to_engine = routes_stopping_ || readers_failed_;
    Access first = route.pending.front().second;
    bool read = first != Access::kEngine && !everything_to_engine;
    // A read waits for the channel's writes to be committed and answered.
    if (read && route.engine_lines > 0) break;
    Job job{route.channel, {}};
    bool all_lookups = true;
    while (!route.pending.empty() &&
           (everything_to_engine || (route.pending.front().second != Access::kEngine) == read)) {
      all_lookups = all_lookups && route.pending.front().second == Access::kLookup;
      job.frames.push_back(std::move(route.pending.front().first));
      route.pending.pop_front();
    }
    if (read) {
      route.reading = true;
      if (here && (!lookups_only || answered_here(job.frames.size(), all_lookups)))
        *here = std::move(job);
      else
        readers_->submit(std::move(job));
    } else {
      route.engine_lines += job.frames.size();
      submit_to_engine(std::move(job));
    }
  }
  if (route.pending.empty() && route.engine_lines == 0 && !route.reading) routes_.erase(it);
}

void EngineWorker::engine_answered(const Channel& channel, std::size_t lines) {
  std::lock_guard lock(route_mutex_);
  auto route = routes_.find(&channel);
  if (route == routes_.end()) return;
  route->second.engine_lines -= lines;
  pump(route);
}

void EngineWorker::reader_finished(Job leftover, bool failed) {
  std::shared_ptr<Channel> channel = leftover.channel;
  {
    std::lock_guard lock(route_mutex_);
    if (failed) readers_failed_ = true;
    auto route = routes_.find(channel.get());
    if (route == routes_.end()) {
      // Lookups answered without a route (submit): done unless something is left.
      if (leftover.frames.empty()) return;
      route = routes_.try_emplace(channel.get()).first;
      route->second.channel = channel;
    }
    route->second.reading = false;
    // Back at the front, in order; they are reads unless the readers failed.
    for (auto frame = leftover.frames.rbegin(); frame != leftover.frames.rend(); ++frame) {
      Access access = failed ? Access::kEngine : access_of(frame->parsed->message);
      route->second.pending.emplace_front(std::move(*frame), access);
    }
    if (!failed && !leftover.frames.empty()) {
      route->second.held = true;
    } else {
      pump(route);
      return;
    }
  }
  mark_parked(channel);
}

void EngineWorker::mark_parked(const std::shared_ptr<Channel>& channel) {
  // Marked only once the replies that filled the budget count as unsent: if the client has read
  // them in the meantime, no transport event will come, so resume here.
  if (channel->exchange_parked(true)) return;
  if (channel->unsent_bytes() <= limits_.output_bytes_per_connection &&
      channel->exchange_parked(false))
    resume(channel);
}

void EngineWorker::submit_to_engine(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void EngineWorker::resume(std::shared_ptr<Channel> channel) {
  if (readers_) {
    std::lock_guard lock(route_mutex_);
    auto route = routes_.find(channel.get());
    if (route != routes_.end() && route->second.held) {
      route->second.held = false;
      pump(route);
      return;
    }
  }
  resume_engine(std::move(channel));
}

void EngineWorker::resume_engine(std::shared_ptr<Channel> channel) {
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
  if (readers_) {
    // From now on every run goes to the engine thread, which answers what the readers hand
    // back as they finish, and then everything else queued.
    {
      std::lock_guard lock(route_mutex_);
      routes_stopping_ = true;
    }
    readers_->stop();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineWorker::run() {
  // Scheduled work (and a deferred hook reload) writes too: readers must not keep a snapshot
  // from before it.
  const auto idle = [this] {
    std::optional<Clock::time_point> due = engine_.idle();
    if (readers_) readers_->engine_wrote();
    return due;
  };
  // Scheduled work that fell due while the server was down runs before the first request.
  std::optional<Clock::time_point> due = idle();
  if (readers_) {
    readers_->publish(engine_);
    {
      std::lock_guard lock(mutex_);
      readers_ready_ = true;
    }
    started_.notify_all();
  }
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
        due = idle();
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
    // A hook reload grows the schema in a task: readers get it before this batch's lines
    // answer, and so before any read those answers release.
    if (readers_ && !tasks.empty()) {
      readers_->engine_wrote();
      readers_->publish(engine_);
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
    due = idle();
    // idle() may apply a deferred hook reload: published before the next batch.
    if (readers_) readers_->publish(engine_);
  }
}

void EngineWorker::process(std::vector<Job>& jobs) {
  std::vector<Answers> answers(jobs.size());
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
  storage::Connection& db = engine_.store().db();
  // On a full disk or an I/O error while spilling pages, SQLite rolls the whole transaction back
  // by itself: what this batch did so far is gone, and later lines would run in autocommit mode,
  // saved while their replies say nothing was.
  auto still_in_transaction = [&db] {
    if (!db.in_transaction())
      throw storage::StorageError(storage::Failure::kIo,
                                  "the database could not write (disk full or I/O error), so "
                                  "SQLite rolled the transaction back");
  };
  // PostgreSQL ends a transaction at its first failed statement, where SQLite undoes only the
  // statement: a read stopped by its time budget would fail every other line of the batch. So
  // there each line runs in a savepoint of its own, and a line that spoiled it is undone alone.
  const bool line_savepoints = db.backend() == storage::Backend::kPostgres;
  LineScope around_line = [&](const LineFramer::Frame& frame,
                              const std::function<Reply()>& dispatch) {
    std::optional<storage::Transaction> savepoint;
    if (line_savepoints) savepoint.emplace(db);
    Reply reply = dispatch();
    still_in_transaction();
    if (savepoint) {
      try {
        savepoint->commit();
      } catch (const storage::StorageError& error) {
        // The reply already says why when the dispatcher saw the failure (the usual case, so
        // parsing it here costs nothing on the way of a success); a line whose failure it did
        // not see must not be answered as done.
        std::error_code ec;
        json::value parsed = json::parse(reply.line, ec);
        if (ec || !parsed.is_object() || !parsed.get_object().contains("error")) {
          reply.line = error_reply_for(frame, internal_error(kNothingSaved, error.what()));
          if (!reply.line.empty()) reply.line.pop_back();  // answer_lines adds the newline
        }
      }
    }
    return reply;
  };
  std::size_t reached = 0;  // jobs the loop below has started (all of them unless it threw)
  try {
    storage::Transaction transaction(db);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      reached = i + 1;
      if (park_behind(jobs[i])) continue;
      auto& channel = *jobs[i].channel;
      answer_lines(dispatcher_, jobs[i], limits_.output_bytes_per_connection,
                   limits_.max_message_bytes, batch_output[&channel], answers[i], around_line);
      if (answers[i].done < jobs[i].frames.size()) {
        auto& frames = jobs[i].frames;
        parked_[&channel] = {jobs[i].channel,
                             std::vector<LineFramer::Frame>(
                                 std::make_move_iterator(frames.begin() + answers[i].done),
                                 std::make_move_iterator(frames.end()))};
        frames.resize(answers[i].done);
      }
    }
    transaction.commit();
    committed = true;
  } catch (const std::exception& error) {
    failure = error.what();
    for (std::size_t i = reached; i < jobs.size(); ++i) park_behind(jobs[i]);
  }
  // Before any reply goes out: a read its client sends after one must not be answered from a
  // snapshot older than the commit.
  if (readers_) readers_->engine_wrote();
  RpcError storage_error;
  if (!committed) storage_error = internal_error(kNothingSaved, failure);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].frames.empty()) continue;  // parked behind earlier lines
    if (!committed) {
      // Every line of the batch that was not parked fails, run or not: nothing was saved.
      answers[i].done = jobs[i].frames.size();
      answers[i].text.clear();
      for (const auto& frame : jobs[i].frames)
        if (!frame.oversized) answers[i].text += error_reply_for(frame, storage_error);
    }
    deliver(jobs[i], answers[i]);
    if (readers_) engine_answered(*jobs[i].channel, answers[i].done);
  }
  for (auto& [channel, job] : parked_) mark_parked(job.channel);
}

}  // namespace verdict::server
