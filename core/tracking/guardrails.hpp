#pragma once

#include "core/stats/analysis.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace verdict::tracking {

/// One entry of an Experiment's `guardrails`: a metric that must not get worse.
struct GuardrailSpec {
  std::string metric;
  bool lower_is_better = false;  ///< written with a leading '-', e.g. "-errors"
};

/// Parses the comma-separated `guardrails` field ("revenue, -errors"). Throws verdict::Error
/// naming `guardrails` for an empty name.
std::vector<GuardrailSpec> parse_guardrails(const std::string& text);

/// The always-valid one-sided harm test of every treatment on one guardrail: harmed when gbstats'
/// one-sided confidence sequence for the lift lies wholly on the harmful side of 0 (its upper
/// bound below 0, or its lower bound above 0 for a lower-is-better metric). Valid under any
/// number of looks, like the primary sequential test. Returns {metric, lowerIsBetter, harmed,
/// variants: [{variant, lift, bound, harmed}]}.
boost::json::object guardrail_result(const GuardrailSpec& guardrail,
                                     const stats::AnalysisInput& input,
                                     const stats::AnalysisResult& result,
                                     const std::vector<std::string>& keys);

}  // namespace verdict::tracking
