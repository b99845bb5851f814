#pragma once

#include "core/tracking/tracking_store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace verdict::tracking {

/// What an experiment has collected so far on the metric being planned.
struct ObservedMetric {
  std::string metric;
  bool binomial = true;
  std::vector<std::string> keys;  ///< variant keys, control first
  std::vector<MetricStats> stats;
  std::optional<double> elapsed_days;  ///< since startAt; absent before the start
};

/// The answer of `do {type: "Experiment", verb: "plan", data}`. Without `observed` it is
/// stats::plan of `data`. With it, the experiment's data supply metricType, baseline, stddev,
/// variants and dailyTraffic (fields in `data` win) and the answer adds `observed` and
/// `howMuchLonger` (gbstats' mid-experiment power per treatment, the slowest one reported).
/// Throws verdict::Error naming the field.
boost::json::object plan_experiment(const boost::json::object& data,
                                    const std::optional<ObservedMetric>& observed);

}  // namespace verdict::tracking
