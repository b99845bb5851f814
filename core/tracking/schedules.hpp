#pragma once

#include <string_view>

namespace verdict {
class Engine;
}

namespace verdict::tracking {

/// The actor the event log records for verbs the scheduler runs.
inline constexpr std::string_view kSchedulerActor = "scheduler";

/// Seed 001's scheduled start and end, as an idle task of `engine`:
/// - a Draft experiment whose `startAt` has come is started;
/// - a Started, Running or Paused one whose `endAt` has come stops collecting: a Running one is
///   analyzed and, when the analysis supports a winner, concluded; otherwise it is stopped.
/// The verbs run through Engine::execute as an operator's would (before and after hooks, events),
/// with the actor `scheduler`. Due times are read from the stored experiments, so what fell due
/// while the server was down runs at its first idle. A scheduled verb that fails is logged and
/// recorded as `Experiment.ScheduleFailed`, and is tried again only once the experiment changes.
/// Also refuses an `endAt` that is not after `startAt`.
void add_schedules(Engine& engine);

}  // namespace verdict::tracking
