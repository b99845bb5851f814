#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace verdict::stats {

/// kRatio: a ratio of two per-unit sums (revenue per session); its components are
/// proportions or means (AnalysisInput::numerator_type / denominator_type).
enum class MetricType { kProportion, kMean, kRatio };
enum class DifferenceType { kRelative, kAbsolute };

/// Pre-period covariate sums of one variant, for CUPED.
struct Covariate {
  double pre_sum = 0;
  double pre_sum_squares = 0;
  double post_pre_sum_of_products = 0;
};

/// Sums over the units of a ratio metric's variant: m = numerator, d = denominator per unit
/// (gbstats' RatioStatistic; GrowthBook's main_sum, denominator_sum, ...).
struct RatioSums {
  double m_sum = 0;
  double m_sum_squares = 0;
  double d_sum = 0;
  double d_sum_squares = 0;
  double m_d_sum_of_products = 0;
};

/// Pre-exposure sums of a ratio metric for CUPED: x = pre-period numerator, z = pre-period
/// denominator (gbstats' RegressionAdjustedRatioStatistic).
struct RatioCovariate {
  double m_pre_sum = 0;
  double m_pre_sum_squares = 0;
  double d_pre_sum = 0;
  double d_pre_sum_squares = 0;
  double m_post_m_pre_sum_of_products = 0;
  double d_post_d_pre_sum_of_products = 0;
  double m_pre_d_pre_sum_of_products = 0;
  double m_post_d_pre_sum_of_products = 0;
  double m_pre_d_post_sum_of_products = 0;
};

/// Sufficient statistics of one variant. For proportion metrics `sum` is the number of
/// conversions and `sum_squares` equals `sum`.
struct VariantData {
  double n = 0;
  double sum = 0;
  double sum_squares = 0;
  std::optional<Covariate> covariate;
  std::optional<RatioSums> ratio;  ///< ratio metrics: replaces sum and sum_squares
  std::optional<RatioCovariate> ratio_covariate;
  /// Smallest always-valid p-value of this treatment at earlier looks (the caller stores it);
  /// the reported sequential p-value is the running minimum. Ignored for the control.
  std::optional<double> previous_min_sequential_p;
};

/// The scale a prior is stated on (gbstats' prior_type).
enum class PriorScale { kRelative, kAbsolute };

/// Gaussian prior on the effect. As in gbstats, it is stated on the relative lift by default
/// and rescaled by the control mean for an absolute analysis (see `scaled_prior`).
struct Prior {
  double mean = 0;
  double stddev = 0.3;
  bool proper = false;
  PriorScale scale = PriorScale::kRelative;
};

/// Everything `analyze` needs. Index 0 of `variants` is the control.
struct AnalysisInput {
  MetricType metric_type = MetricType::kMean;
  /// Ratio metrics: the kind of the numerator and denominator (proportion: a 0/1 value per unit).
  MetricType numerator_type = MetricType::kMean;
  MetricType denominator_type = MetricType::kMean;
  std::vector<VariantData> variants;
  std::vector<double> weights;  ///< configured split, same length as variants, normalised
  double alpha = 0.05;
  DifferenceType difference_type = DifferenceType::kRelative;
  double sequential_tuning_parameter = 5000;
  Prior prior;
  bool inverse = false;
  std::string metric_name = "the metric";
  /// Names the recommendation uses for the arms (e.g. variant keys); "control", "treatment"
  /// and "variant N" when absent.
  std::vector<std::string> variant_names;
  /// Set when the experiment cannot be concluded any more (e.g. "The experiment is Stopped, so
  /// it cannot be concluded"): the recommendation says so instead of "Safe to conclude" or
  /// "Keep running".
  std::string conclude_blocked;
  double bandit_floor = 0.01;     ///< minimum bandit weight per arm
  double bandit_min_units = 100;  ///< no reweighting until every arm has this many units

  /// True when every variant carries the CUPED covariate (the ratio covariate for ratios).
  bool has_covariate() const;
  /// Whether this variant carries the covariate of this input's metric type.
  bool carries_covariate(const VariantData& variant) const;
};

/// Reads one `input` object of the gbstats reference format. Missing optional fields take the
/// defaults above; `weights` defaults to an equal split. Throws verdict::Error
/// (kInvalidArgument) naming the offending field, e.g. `variants[1].n: must be a non-negative
/// finite number`.
AnalysisInput parse_analysis_input(const boost::json::value& json);

/// Checks the invariants `parse_analysis_input` guarantees, for callers that build an
/// AnalysisInput by hand. Throws verdict::Error naming the field.
void validate(const AnalysisInput& input);

}  // namespace verdict::stats
