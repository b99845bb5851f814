#pragma once

#include <vector>

namespace verdict::stats {

/// Holm-Bonferroni step-down adjusted p-values, in the input order. Controls the family-wise
/// error rate under any dependence.
std::vector<double> holm_adjust(const std::vector<double>& p_values);

/// Benjamini-Hochberg step-up adjusted p-values (q-values), in the input order. Controls the
/// false discovery rate for independent or positively dependent tests.
std::vector<double> benjamini_hochberg_adjust(const std::vector<double>& p_values);

}  // namespace verdict::stats
