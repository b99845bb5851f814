#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace verdict {
class Engine;
}

namespace verdict::tracking {

/// The actor the event log records for verbs the scheduler runs.
inline constexpr std::string_view kSchedulerActor = "scheduler";

/// The entities of `noun` matching `filter` whose datetime `field` is set and, when `until` is
/// not empty, at or before it (canonical ISO 8601, as stored), earliest first; at most `limit`.
std::vector<boost::json::object> by_due_time(Engine& engine, std::string_view noun,
                                             boost::json::object filter, const char* field,
                                             const std::string& until, std::int64_t limit);

/// Seed 001's scheduled start and end, as an idle task of `engine`:
/// - a Draft experiment whose `startAt` has come is started;
/// - a Started, Running or Paused one whose `endAt` has come stops collecting: a Running one is
///   analyzed and, when the analysis supports a winner, concluded; otherwise it is stopped.
/// The verbs run through Engine::execute as an operator's would (before and after hooks, events),
/// with the actor `scheduler`. Due times are read from the stored experiments, so what fell due
/// while the server was down runs at its first idle. A scheduled verb that fails is logged and
/// recorded as `Experiment.ScheduleFailed`, and is tried again only once the experiment changes.
/// Also refuses an `endAt` before `startAt`.
void add_schedules(Engine& engine);

}  // namespace verdict::tracking
