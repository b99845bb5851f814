#include "core/stats/multiple_testing.hpp"

#include <algorithm>
#include <numeric>

namespace verdict::stats {
namespace {

std::vector<std::size_t> ascending_order(const std::vector<double>& p_values) {
  std::vector<std::size_t> order(p_values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return p_values[a] < p_values[b]; });
  return order;
}

}  // namespace

std::vector<double> holm_adjust(const std::vector<double>& p_values) {
  const std::size_t m = p_values.size();
  std::vector<double> adjusted(m);
  double running_max = 0;
  const std::vector<std::size_t> order = ascending_order(p_values);
  for (std::size_t rank = 0; rank < m; ++rank) {
    const std::size_t index = order[rank];
    running_max = std::max(running_max, std::min(1.0, (m - rank) * p_values[index]));
    adjusted[index] = running_max;
  }
  return adjusted;
}

std::vector<double> benjamini_hochberg_adjust(const std::vector<double>& p_values) {
  const std::size_t m = p_values.size();
  std::vector<double> adjusted(m);
  double running_min = 1;
  const std::vector<std::size_t> order = ascending_order(p_values);
  for (std::size_t rank = m; rank-- > 0;) {
    const std::size_t index = order[rank];
    running_min = std::min(running_min, p_values[index] * m / (rank + 1));
    adjusted[index] = running_min;
  }
  return adjusted;
}

}  // namespace verdict::stats
