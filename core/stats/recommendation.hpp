#pragma once

#include "core/stats/analysis_input.hpp"
#include "core/stats/analysis_result.hpp"

#include <string>

namespace verdict::stats {

/// A plain-English verdict a product manager can act on, named after `input.metric_name`.
/// Conclusions rest on the always-valid (sequential) p-value, so they stay valid however often
/// the experiment is looked at; with several treatments it is Holm-adjusted across them.
/// Precedence: sample ratio mismatch ("sample ratio mismatch: do not trust these results"),
/// then missing data, then a significant winner or loser ("Safe to conclude."), otherwise
/// "Keep running" with the sample multiple that would make the current effect significant.
std::string recommend(const AnalysisInput& input, const AnalysisResult& result);

}  // namespace verdict::stats
