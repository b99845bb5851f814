#pragma once

#include "core/stats/analysis_input.hpp"
#include "core/stats/analysis_result.hpp"

#include <boost/json/object.hpp>

namespace verdict::stats {

/// Runs every statistic of the engine on one metric: per-variant moments, SRM, and for each
/// treatment the fixed-horizon, sequential and Bayesian comparisons (CUPED when a covariate is
/// given), Holm and BH adjustments, the Thompson-sampling bandit for proportion metrics and the
/// recommendation. Pure and thread-safe; never returns NaN. Throws verdict::Error naming the
/// field when `input` violates the invariants of `validate`.
AnalysisResult analyze(const AnalysisInput& input);

/// The wire form: {"variants", "srm", "comparisons", "bandit" (null for mean metrics),
/// "recommendation"}; see docs/statistics.md.
boost::json::object to_json(const AnalysisResult& result);

/// The always-valid p-value over repeated looks: the running minimum. `previous` is what the
/// caller stored from earlier looks (absent at the first look).
double running_min_p(std::optional<double> previous, double current);

}  // namespace verdict::stats
