#pragma once

#include "core/stats/analysis_input.hpp"
#include "core/storage/connection.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verdict::tracking {

/// A metric named "numerator/denominator" (e.g. "revenue/sessions") is the ratio of two
/// tracked metrics per unit; returns the two names, nullopt for a plain metric name.
std::optional<std::pair<std::string, std::string>> ratio_parts(std::string_view metric);

/// Per-variant ratio sums over every exposed unit of `experiment`: n = exposed units, m and d
/// the unit's tracked totals of the two metrics (0 when it has none). One indexed pass over
/// the experiment's exposures.
std::vector<stats::RatioSums> ratio_sums(storage::Connection& db, std::string_view experiment,
                                         const std::string& numerator,
                                         const std::string& denominator, std::size_t variants);

}  // namespace verdict::tracking
