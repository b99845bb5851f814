#include "core/tracking/ratio_metric.hpp"

namespace verdict::tracking {

std::optional<std::pair<std::string, std::string>> ratio_parts(std::string_view metric) {
  const auto slash = metric.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == metric.size() ||
      metric.find('/', slash + 1) != std::string_view::npos)
    return std::nullopt;
  return std::pair{std::string(metric.substr(0, slash)), std::string(metric.substr(slash + 1))};
}

std::vector<stats::RatioSums> ratio_sums(storage::Connection& db, std::string_view experiment,
                                         const std::string& numerator,
                                         const std::string& denominator, std::size_t variants) {
  std::vector<stats::RatioSums> sums(variants);
  auto statement = db.prepare(
      "SELECT e.variant, SUM(COALESCE(m.value, 0)), SUM(COALESCE(m.value, 0) * COALESCE(m.value, "
      "0)),"
      " SUM(COALESCE(d.value, 0)), SUM(COALESCE(d.value, 0) * COALESCE(d.value, 0)),"
      " SUM(COALESCE(m.value, 0) * COALESCE(d.value, 0))"
      " FROM exposure e"
      " LEFT JOIN unit_metric m ON m.experiment = e.experiment AND m.metric = ? AND m.unit = e.unit"
      " LEFT JOIN unit_metric d ON d.experiment = e.experiment AND d.metric = ? AND d.unit = e.unit"
      " WHERE e.experiment = ? GROUP BY e.variant");
  statement.bind(1, numerator).bind(2, denominator).bind(3, experiment);
  while (statement.step()) {
    const auto index = static_cast<std::size_t>(statement.column_int(0));
    if (index >= variants) continue;
    sums[index] = {statement.column_double(1), statement.column_double(2),
                   statement.column_double(3), statement.column_double(4),
                   statement.column_double(5)};
  }
  return sums;
}

}  // namespace verdict::tracking
