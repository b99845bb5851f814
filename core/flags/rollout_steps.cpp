#include "core/flags/rollout_steps.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/storage/connection.hpp"
#include "core/tracking/schedules.hpp"

namespace verdict::flags {

namespace json = boost::json;

namespace {

using time_point = Clock::time_point;

constexpr std::size_t kMaxSteps = 20;
constexpr double kMaxEvery = 366.0 * 86400;  // a year between steps
constexpr std::int64_t kPerPass = 100;

std::string text(const json::object& entity, std::string_view key) {
  const auto* value = entity.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

time_point after(time_point now, double seconds) {
  return now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void check_steps(const json::value& steps) {
  const auto* list = steps.if_array();
  if (!list || list->size() < 2 || list->size() > kMaxSteps)
    invalid("steps", "expected 2 to 20 percentages ending at 100, e.g. [5, 25, 50, 100]");
  double previous = 0;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = "steps[" + std::to_string(i) + "]";
    if (!(*list)[i].is_number()) invalid(where, "expected a percentage");
    const double percent = (*list)[i].to_number<double>();
    if (!(percent > previous && percent <= 100))
      invalid(where, "each step must be above the one before and at most 100");
    previous = percent;
  }
  if (previous != 100) invalid("steps", "the last step must be 100, where the rollout ends");
}

double check_every(const json::value& every) {
  const double seconds = every.is_number() ? every.to_number<double>() : 0;
  if (!(seconds >= 1 && seconds <= kMaxEvery))
    invalid("every", "expected the seconds between steps, 1 to a year (86400 for daily)");
  return seconds;
}

class RolloutSteps {
 public:
  explicit RolloutSteps(Engine& engine) : engine_(engine) {}

  void noticed(const json::object& flag) {
    if (flag.contains("nextRolloutAt") || text(flag, "id") == next_id_) dirty_ = true;
  }

  std::optional<time_point> run(time_point now) {
    // Another process or node sharing the store may have planned a step (see Scheduler::run).
    if (commits_.others_committed(engine_.store().db())) dirty_ = true;
    if (!dirty_ && (!next_ || *next_ > now)) return next_;
    for (const auto& flag : tracking::by_due_time(engine_, "FeatureFlag", {{"status", "Enabled"}},
                                                  "nextRolloutAt", to_iso8601(now), kPerPass))
      step(flag, now);
    dirty_ = false;
    next_.reset();
    next_id_.clear();
    const auto first = tracking::by_due_time(engine_, "FeatureFlag", {{"status", "Enabled"}},
                                             "nextRolloutAt", {}, 1);
    if (!first.empty()) {
      next_id_ = text(first.front(), "id");
      next_ = parse_iso8601_utc(text(first.front(), "nextRolloutAt"));
    }
    return next_;
  }

 private:
  void step(const json::object& flag, time_point now) {
    const std::string id = text(flag, "id");
    const auto* plan = flag.if_contains("rolloutSteps");
    if (!plan || !plan->is_object()) return;
    const auto& steps = plan->at("steps").as_array();
    const double every = plan->at("every").to_number<double>();
    const std::size_t next = plan->at("step").to_number<std::size_t>() + 1;
    try {
      if (auto harmed = guardrail_harm(flag)) {
        roll_back(id, std::move(*harmed));
        return;
      }
      if (next + 1 >= steps.size()) {
        execute(id, "rollout");
        return;
      }
      json::object updated = *engine_.store().get(noun(), id);
      updated["rolloutPercentage"] = steps[next];
      updated["rolloutSteps"].as_object()["step"] = next;
      updated["nextRolloutAt"] = to_iso8601(after(now, every));
      persist(updated, "RolloutStepped",
              {{"step", next}, {"rolloutPercentage", steps[next]}, {"of", steps}});
    } catch (const std::exception& error) {
      // The step waits a whole interval instead of being retried at every idle.
      log(LogLevel::kWarning, "rollout step of FeatureFlag " + id + " failed: " + error.what());
      json::object updated = *engine_.store().get(noun(), id);
      updated["nextRolloutAt"] = to_iso8601(after(now, every));
      persist(updated, "RolloutHeld", {{"error", error.what()}});
    }
  }

  // The harmed guardrails of the flag's linked experiment, by a fresh analysis; nullopt when
  // they hold or there are none to check.
  std::optional<json::array> guardrail_harm(const json::object& flag) {
    const std::string experiment = text(flag, "experiment");
    if (experiment.empty()) return std::nullopt;
    if (text(engine_.get("Experiment", experiment), "guardrails").empty()) return std::nullopt;
    const json::value view = execute_on("Experiment", experiment, "analyze");
    const auto* harmed = view.as_object().if_contains("guardrailHarmed");
    if (!harmed || *harmed != true) return std::nullopt;
    json::array figures;
    for (const auto& guardrail : view.at("guardrails").as_array())
      if (guardrail.at("harmed") == true) figures.push_back(guardrail);
    return figures;
  }

  void roll_back(const std::string& id, json::array harmed) {
    json::object flag = *engine_.store().get(noun(), id);
    const json::value from = flag["rolloutPercentage"];
    flag["rolloutPercentage"] = 0;
    flag.erase("rolloutSteps");
    flag.erase("nextRolloutAt");
    persist(flag, "RolledBack", {{"from", from}, {"guardrails", std::move(harmed)}});
    // A guardrail hook on the analysis may have turned the flag off already.
    if (text(flag, "status") != "Disabled") execute(id, "disable");
  }

  void persist(json::object& flag, const std::string& event, const json::object& data) {
    storage::Transaction transaction(engine_.store().db());
    engine_.persist(noun(), flag, event, data, std::string(tracking::kSchedulerActor));
    transaction.commit();
  }

  json::value execute(const std::string& id, const char* verb) {
    return execute_on("FeatureFlag", id, verb);
  }

  json::value execute_on(const char* type, const std::string& id, const char* verb) {
    return engine_.execute({.noun = type,
                            .verb = verb,
                            .id = id,
                            .actor = std::string(tracking::kSchedulerActor),
                            .caller = engine_.caller()});
  }

  const Noun& noun() { return engine_.schema().noun("FeatureFlag"); }

  Engine& engine_;
  bool dirty_ = true;
  storage::CommitWatch commits_;
  std::optional<time_point> next_;
  std::string next_id_;
};

}  // namespace

void apply_rollout(const Noun&, json::object& flag, const json::object& data) {
  flag.erase("steps");
  flag.erase("every");
  const auto* steps = data.if_contains("steps");
  const auto* every = data.if_contains("every");
  if (!steps && !every) {
    flag["rolloutPercentage"] = 100;
    flag.erase("rolloutSteps");
    flag.erase("nextRolloutAt");
    return;
  }
  if (!steps) invalid("steps", "required with every: the percentages, e.g. [5, 25, 50, 100]");
  if (!every) invalid("every", "required with steps: the seconds between steps (86400 for daily)");
  check_steps(*steps);
  const double seconds = check_every(*every);
  flag["status"] = "Enabled";
  flag["rolloutPercentage"] = steps->as_array().front();
  flag["rolloutSteps"] = {{"steps", *steps}, {"every", seconds}, {"step", 0}};
  flag["nextRolloutAt"] = to_iso8601(after(std::chrono::system_clock::now(), seconds));
}

void add_rollout_steps(Engine& engine) {
  auto steps = std::make_shared<PerProject<RolloutSteps>>(engine);
  engine.schema().add_validator(
      "FeatureFlag", [steps](const json::object& flag) { steps->current().noticed(flag); });
  engine.add_idle_task([steps](time_point now) { return steps->current().run(now); });
}

}  // namespace verdict::flags
