#pragma once

#include "core/stats/analysis_input.hpp"
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
  std::vector<std::string> keys;   ///< variant keys, control first
  std::vector<MetricStats> stats;  ///< n is each arm's exposed units
  /// For a ratio metric ("revenue/sessions"): each arm's per-unit sums, planned as a mean of
  /// the control's ratio with its delta-method per-unit variance. Empty for a plain metric.
  std::vector<stats::RatioSums> ratio;
  stats::MetricType numerator_type = stats::MetricType::kMean;
  stats::MetricType denominator_type = stats::MetricType::kMean;
  std::optional<double> elapsed_days;  ///< since startAt; absent before the start
};

/// The answer of `do {type: "Experiment", verb: "plan", data}`. Without `observed` it is
/// stats::plan of `data`. With it, the experiment's data supply metricType, baseline, stddev
/// (for a ratio: the control's ratio and sqrt of its delta-method per-unit variance, as a mean),
/// variants and dailyTraffic (fields in `data` win) and the answer adds `observed` and
/// `howMuchLonger` (gbstats' mid-experiment power per treatment, the slowest one reported).
/// Throws verdict::Error naming the field.
boost::json::object plan_experiment(const boost::json::object& data,
                                    const std::optional<ObservedMetric>& observed);

}  // namespace verdict::tracking
