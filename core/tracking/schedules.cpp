#include "core/tracking/schedules.hpp"

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/storage/connection.hpp"

namespace verdict::tracking {

namespace json = boost::json;

namespace {

using time_point = Clock::time_point;

// Experiments handled per pass; more that are due at once run at the next idle, which comes
// at once since the next due time is then already past.
constexpr std::int64_t kPerPass = 100;

const json::array& active_statuses() {
  static const json::array statuses{"Started", "Running", "Paused"};
  return statuses;
}

std::string text(const json::object& entity, std::string_view key) {
  const auto* value = entity.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

std::optional<time_point> time_of(const json::object& entity, std::string_view key) {
  return parse_iso8601_utc(text(entity, key));
}

// The field whose time the scheduler acts on for an experiment in this state, if any.
std::optional<std::string_view> scheduled_field(const json::object& experiment) {
  const std::string status = text(experiment, "status");
  if (status == "Draft") return "startAt";
  if (status == "Started" || status == "Running" || status == "Paused") return "endAt";
  return std::nullopt;
}

void check_end_after_start(const json::object& experiment) {
  const auto start = time_of(experiment, "startAt");
  const auto end = time_of(experiment, "endAt");
  // Equal is allowed: a stop in the millisecond of the start.
  if (start && end && *end < *start)
    invalid("endAt", "must not be before startAt (" + text(experiment, "startAt") + "), got " +
                         text(experiment, "endAt"));
}

class Scheduler {
 public:
  explicit Scheduler(Engine& engine) : engine_(engine) {}

  // Called for every experiment written (as a validator): a write can only move the next due
  // time when the experiment is scheduled now or was the next one due.
  void noticed(const json::object& experiment) {
    const std::string id = text(experiment, "id");
    failed_.erase(id);
    if (dirty_) return;
    const auto field = scheduled_field(experiment);
    if ((field && experiment.contains(*field)) || id == next_start_id_ || id == next_end_id_)
      dirty_ = true;
  }

  std::optional<time_point> run(time_point now) {
    // Another process or node sharing the store may have scheduled an experiment: it did not
    // pass through noticed(), but its commit moved the store's data version.
    if (commits_.others_committed(engine_.store().db())) dirty_ = true;
    if (!dirty_ && (!next_ || *next_ > now)) return next_;
    dirty_ = false;
    const std::string cutoff = to_iso8601(now);
    for (const auto& experiment : due("Draft", "startAt", cutoff))
      fire(experiment, [this](const std::string& id) { execute(id, "start"); });
    for (const auto& experiment : due(json::value(active_statuses()), "endAt", cutoff))
      fire(experiment, [this](const std::string& id) { end(id); });
    // The verbs above marked the schedule dirty again; the next due time is read afresh.
    dirty_ = false;
    next_start_id_.clear();
    next_end_id_.clear();
    next_.reset();
    consider(first("Draft", "startAt", {}), "startAt", next_start_id_);
    consider(first(json::value(active_statuses()), "endAt", {}), "endAt", next_end_id_);
    return next_;
  }

 private:
  std::vector<json::object> due(json::value status, const char* field, const std::string& cutoff) {
    return page(std::move(status), field, cutoff, kPerPass);
  }

  std::optional<json::object> first(json::value status, const char* field,
                                    const std::string& cutoff) {
    auto items = page(std::move(status), field, cutoff, 1);
    if (items.empty()) return std::nullopt;
    return std::move(items.front());
  }

  // Scheduled experiments in `status` by `field`, earliest first, up to `cutoff` when given;
  // those whose scheduled verb failed wait until they change.
  std::vector<json::object> page(json::value status, const char* field, const std::string& cutoff,
                                 std::int64_t limit) {
    json::object filter;
    filter["status"] =
        status.is_array() ? json::value(json::object{{"$in", status}}) : std::move(status);
    if (!failed_.empty()) {
      json::array skipped;
      for (const auto& id : failed_) skipped.push_back(json::value(id));
      filter["id"] = {{"$nin", std::move(skipped)}};
    }
    return by_due_time(engine_, "Experiment", std::move(filter), field, cutoff, limit);
  }

  void consider(const std::optional<json::object>& experiment, const char* field, std::string& id) {
    if (!experiment) return;
    const auto at = time_of(*experiment, field);
    if (!at) return;
    id = text(*experiment, "id");
    if (!next_ || *at < *next_) next_ = at;
  }

  template <typename Action>
  void fire(const json::object& experiment, Action action) {
    const std::string id = text(experiment, "id");
    try {
      action(id);
    } catch (const std::exception& error) {
      failed(experiment, error.what());
    }
  }

  json::value execute(const std::string& id, const char* verb) {
    return engine_.execute({.noun = "Experiment",
                            .verb = verb,
                            .id = id,
                            .actor = std::string(kSchedulerActor),
                            .caller = engine_.caller()});
  }

  // What an operator does at the scheduled end: a Running experiment is analyzed and concluded
  // when the analysis supports a winner; anything else (no metric to analyze, no winner, paused
  // by a guardrail hook during that analysis) is stopped.
  void end(const std::string& id) {
    if (text(engine_.get("Experiment", id), "status") == "Running") {
      try {
        execute(id, "analyze");
      } catch (const Error& error) {
        log(LogLevel::kInfo, "scheduled end of " + id + ": no analysis (" + error.what() +
                                 "); stopping without a conclusion");
      }
      const json::object experiment = engine_.get("Experiment", id);
      if (text(experiment, "status") == "Running" && experiment.contains("winner")) {
        execute(id, "conclude");
        return;
      }
    }
    execute(id, "stop");
  }

  void failed(const json::object& experiment, const std::string& message) {
    const std::string id = text(experiment, "id");
    const auto field = scheduled_field(experiment).value_or("startAt");
    log(LogLevel::kWarning, "scheduled " + std::string(field) + " of Experiment " + id +
                                " failed: " + message + " (tried again once it changes)");
    failed_.insert(id);
    try {
      storage::Transaction transaction(engine_.store().db());
      engine_.store().append_event(
          {.type = "Experiment.ScheduleFailed",
           .noun = "Experiment",
           .entity_id = id,
           .verb = field == "startAt" ? "start" : "stop",
           .data = {{"error", message}, {std::string(field), text(experiment, std::string(field))}},
           .actor = std::string(kSchedulerActor)});
      transaction.commit();
    } catch (const std::exception& error) {
      log(LogLevel::kError, std::string("cannot record a failed schedule: ") + error.what());
    }
  }

  Engine& engine_;
  bool dirty_ = true;  // the first idle reads the schedule from the store
  storage::CommitWatch commits_;
  std::optional<time_point> next_;
  std::string next_start_id_, next_end_id_;
  std::set<std::string, std::less<>> failed_;
};

}  // namespace

std::vector<json::object> by_due_time(Engine& engine, std::string_view noun, json::object filter,
                                      const char* field, const std::string& until,
                                      std::int64_t limit) {
  json::object when{{"$exists", true}};
  if (!until.empty()) when["$lte"] = until;
  FindQuery query;
  query.filter = std::move(filter);
  query.filter[field] = std::move(when);
  query.sort = {{field, "asc"}};
  query.limit = limit;
  return engine.find(noun, query).items;
}

void add_schedules(Engine& engine) {
  auto schedulers = std::make_shared<PerProject<Scheduler>>(engine);
  engine.schema().add_validator("Experiment", [schedulers](const json::object& experiment) {
    check_end_after_start(experiment);
    schedulers->current().noticed(experiment);
  });
  engine.add_idle_task([schedulers](time_point now) { return schedulers->current().run(now); });
}

}  // namespace verdict::tracking
