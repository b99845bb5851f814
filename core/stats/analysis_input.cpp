#include "core/stats/analysis_input.hpp"

#include "core/error.hpp"
#include "core/stats/json_fields.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>

namespace verdict::stats {
namespace {

namespace json = boost::json;

std::string index_field(const std::string& array, std::size_t index, const std::string& key) {
  return array + "[" + std::to_string(index) + "]" + (key.empty() ? "" : "." + key);
}

void require_non_negative(double value, const std::string& field) {
  if (!std::isfinite(value) || value < 0) invalid(field, "must be a non-negative finite number");
}

void require_finite(double value, const std::string& field) {
  if (!std::isfinite(value)) invalid(field, "must be a finite number");
}

VariantData parse_variant(const json::object& object, std::size_t index, MetricType type) {
  const auto field = [index](const char* key) { return index_field("variants", index, key); };
  VariantData variant;
  const json::value* n = find(object, "n");
  if (!n) invalid(field("n"), "is required");
  variant.n = to_double(*n, field("n"));
  const json::value* sum = find(object, "sum");
  if (!sum) invalid(field("sum"), "is required");
  variant.sum = to_double(*sum, field("sum"));
  if (type == MetricType::kProportion) {
    variant.sum_squares = variant.sum;
  } else {
    const json::value* sum_squares = find(object, "sum_squares");
    if (!sum_squares) invalid(field("sum_squares"), "is required for a mean metric");
    variant.sum_squares = to_double(*sum_squares, field("sum_squares"));
  }

  constexpr const char* kCovariateKeys[] = {"pre_sum", "pre_sum_squares",
                                            "post_pre_sum_of_products"};
  std::size_t present = 0;
  for (const char* key : kCovariateKeys) present += find(object, key) != nullptr;
  if (present == std::size(kCovariateKeys)) {
    variant.covariate = Covariate{
        to_double(*find(object, "pre_sum"), field("pre_sum")),
        to_double(*find(object, "pre_sum_squares"), field("pre_sum_squares")),
        to_double(*find(object, "post_pre_sum_of_products"), field("post_pre_sum_of_products"))};
  } else if (present != 0) {
    for (const char* key : kCovariateKeys) {
      if (!find(object, key)) invalid(field(key), "is required when any CUPED covariate is given");
    }
  }
  if (const json::value* previous = find(object, "previous_min_sequential_p")) {
    variant.previous_min_sequential_p = to_double(*previous, field("previous_min_sequential_p"));
  }
  return variant;
}

// Units are counted in doubles; above 2^53 they are no longer exact whole numbers.
constexpr double kMaxUnits = 9007199254740992.0;
// Sums of squares accumulated in floating point may undershoot sum^2/n by rounding only.
constexpr double kRoundingTolerance = 1e-9;

std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

// sum^2 / n, refused when it overflows: the variance would be -infinity.
double square_over_n(double sum, double n, const std::string& field) {
  const double value = sum / n * sum;
  if (!std::isfinite(value)) invalid(field, "is too large: its square overflows a double");
  return value;
}

// sum_squares - sum^2/n, the centred sum of squares; negative beyond rounding is impossible.
double centred_squares(double n, double sum, double sum_squares, const std::string& sum_field,
                       const std::string& squares_field) {
  const double square = square_over_n(sum, n, sum_field);
  const double centred = sum_squares - square;
  if (centred < -kRoundingTolerance * std::max(sum_squares, square)) {
    invalid(squares_field, "must be at least " + sum_field + "^2 / n = " + number_text(square) +
                               " (a sum of squares cannot be smaller), got " +
                               number_text(sum_squares));
  }
  return std::max(0.0, centred);
}

void validate_sums(const VariantData& variant,
                   const std::function<std::string(const char*)>& field) {
  if (variant.n == 0) {
    const bool empty = variant.sum == 0 && variant.sum_squares == 0 &&
                       (!variant.covariate || (variant.covariate->pre_sum == 0 &&
                                               variant.covariate->pre_sum_squares == 0 &&
                                               variant.covariate->post_pre_sum_of_products == 0));
    if (!empty) invalid(field("n"), "is 0, so every sum of this variant must be 0 too");
    return;
  }
  const double post = centred_squares(variant.n, variant.sum, variant.sum_squares, field("sum"),
                                      field("sum_squares"));
  if (!variant.covariate) return;
  const Covariate& covariate = *variant.covariate;
  // The data's own sums of squares, whatever statistic gbstats later applies to them.
  const double pre = centred_squares(variant.n, covariate.pre_sum, covariate.pre_sum_squares,
                                     field("pre_sum"), field("pre_sum_squares"));
  const double product_of_means = variant.sum / variant.n * covariate.pre_sum;
  if (!std::isfinite(product_of_means))
    invalid(field("pre_sum"), "is too large: sum * pre_sum / n overflows a double");
  const double cross = covariate.post_pre_sum_of_products - product_of_means;
  const double bound = std::sqrt(post) * std::sqrt(pre);
  if (std::abs(cross) > bound * (1 + kRoundingTolerance) +
                            kRoundingTolerance * std::abs(covariate.post_pre_sum_of_products)) {
    invalid(field("post_pre_sum_of_products"),
            "implies a correlation of " + number_text(bound > 0 ? cross / bound : cross) +
                " between the metric and its covariate; a correlation lies in [-1, 1]");
  }
}

// One component of a ratio: a proportion's sum counts units with value 1; a mean's sums must be
// those of real numbers.
void validate_component(double n, double sum, double sum_squares, bool proportion,
                        const std::string& sum_field, const std::string& squares_field) {
  if (proportion) {
    require_non_negative(sum, sum_field);
    if (sum > n) invalid(sum_field, "must not exceed n for a proportion component");
    return;
  }
  require_finite(sum, sum_field);
  require_non_negative(sum_squares, squares_field);
  if (n > 0) centred_squares(n, sum, sum_squares, sum_field, squares_field);
}

void validate_ratio(const VariantData& variant, const AnalysisInput& input,
                    const std::function<std::string(const char*)>& field) {
  if (!variant.ratio) invalid(field("m_sum"), "is required for a ratio metric");
  const RatioSums& sums = *variant.ratio;
  const bool m_prop = input.numerator_type == MetricType::kProportion;
  const bool d_prop = input.denominator_type == MetricType::kProportion;
  validate_component(variant.n, sums.m_sum, sums.m_sum_squares, m_prop, field("m_sum"),
                     field("m_sum_squares"));
  validate_component(variant.n, sums.d_sum, sums.d_sum_squares, d_prop, field("d_sum"),
                     field("d_sum_squares"));
  require_finite(sums.m_d_sum_of_products, field("m_d_sum_of_products"));
  bool all_zero = sums.m_sum == 0 && sums.d_sum == 0 && sums.m_d_sum_of_products == 0;
  if (const auto& pre = variant.ratio_covariate) {
    validate_component(variant.n, pre->m_pre_sum, pre->m_pre_sum_squares, m_prop,
                       field("m_pre_sum"), field("m_pre_sum_squares"));
    validate_component(variant.n, pre->d_pre_sum, pre->d_pre_sum_squares, d_prop,
                       field("d_pre_sum"), field("d_pre_sum_squares"));
    for (auto [value, key] :
         {std::pair{pre->m_post_m_pre_sum_of_products, "m_post_m_pre_sum_of_products"},
          {pre->d_post_d_pre_sum_of_products, "d_post_d_pre_sum_of_products"},
          {pre->m_pre_d_pre_sum_of_products, "m_pre_d_pre_sum_of_products"},
          {pre->m_post_d_pre_sum_of_products, "m_post_d_pre_sum_of_products"},
          {pre->m_pre_d_post_sum_of_products, "m_pre_d_post_sum_of_products"}}) {
      require_finite(value, field(key));
      all_zero = all_zero && value == 0;
    }
    all_zero = all_zero && pre->m_pre_sum == 0 && pre->d_pre_sum == 0;
  }
  if (variant.n == 0 && !all_zero)
    invalid(field("n"), "is 0, so every sum of this variant must be 0 too");
}

// A ratio variant: the post-period sums and, all or none, the nine CUPED sums. A proportion
// component's sum of squares equals its sum, so it may be left out.
VariantData parse_ratio_variant(const json::object& object, std::size_t index,
                                const AnalysisInput& input) {
  const auto field = [index](const char* key) { return index_field("variants", index, key); };
  const auto required = [&](const char* key) {
    const json::value* value = find(object, key);
    if (!value) invalid(field(key), "is required for a ratio metric");
    return to_double(*value, field(key));
  };
  const auto squares = [&](const char* key, const char* sum_key, MetricType type) {
    if (type == MetricType::kProportion) return required(sum_key);
    return required(key);
  };
  VariantData variant;
  variant.n = required("n");
  variant.ratio = RatioSums{
      required("m_sum"), squares("m_sum_squares", "m_sum", input.numerator_type), required("d_sum"),
      squares("d_sum_squares", "d_sum", input.denominator_type), required("m_d_sum_of_products")};
  constexpr const char* kPreKeys[] = {"m_pre_sum",
                                      "m_pre_sum_squares",
                                      "d_pre_sum",
                                      "d_pre_sum_squares",
                                      "m_post_m_pre_sum_of_products",
                                      "d_post_d_pre_sum_of_products",
                                      "m_pre_d_pre_sum_of_products",
                                      "m_post_d_pre_sum_of_products",
                                      "m_pre_d_post_sum_of_products"};
  std::size_t present = 0;
  for (const char* key : kPreKeys) present += find(object, key) != nullptr;
  if (present != 0) {
    const bool m_prop = input.numerator_type == MetricType::kProportion;
    const bool d_prop = input.denominator_type == MetricType::kProportion;
    for (const char* key : kPreKeys) {
      const std::string_view name = key;
      const bool optional =
          (name == "m_pre_sum_squares" && m_prop) || (name == "d_pre_sum_squares" && d_prop);
      if (!find(object, key) && !optional)
        invalid(field(key), "is required when any CUPED ratio sum is given");
    }
    variant.ratio_covariate =
        RatioCovariate{required("m_pre_sum"),
                       squares("m_pre_sum_squares", "m_pre_sum", input.numerator_type),
                       required("d_pre_sum"),
                       squares("d_pre_sum_squares", "d_pre_sum", input.denominator_type),
                       required("m_post_m_pre_sum_of_products"),
                       required("d_post_d_pre_sum_of_products"),
                       required("m_pre_d_pre_sum_of_products"),
                       required("m_post_d_pre_sum_of_products"),
                       required("m_pre_d_post_sum_of_products")};
  }
  if (const json::value* previous = find(object, "previous_min_sequential_p"))
    variant.previous_min_sequential_p = to_double(*previous, field("previous_min_sequential_p"));
  return variant;
}

MetricType component_type(const json::object& object, const char* key) {
  const std::string type = string_or(object, key, key, "mean");
  if (type == "proportion") return MetricType::kProportion;
  if (type != "mean") invalid(key, "must be \"proportion\" or \"mean\"");
  return MetricType::kMean;
}

}  // namespace

bool AnalysisInput::has_covariate() const {
  return !variants.empty() &&
         std::all_of(variants.begin(), variants.end(),
                     [this](const VariantData& v) { return carries_covariate(v); });
}

bool AnalysisInput::carries_covariate(const VariantData& variant) const {
  return metric_type == MetricType::kRatio ? variant.ratio_covariate.has_value()
                                           : variant.covariate.has_value();
}

void validate(const AnalysisInput& input) {
  if (input.variants.empty()) invalid("variants", "must contain at least the control");
  for (std::size_t i = 0; i < input.variants.size(); ++i) {
    const VariantData& variant = input.variants[i];
    const auto field = [i](const char* key) { return index_field("variants", i, key); };
    require_non_negative(variant.n, field("n"));
    if (variant.n != std::floor(variant.n)) invalid(field("n"), "must be a whole number of units");
    if (variant.n > kMaxUnits) invalid(field("n"), "must be at most 2^53 = 9007199254740992");
    if (input.metric_type == MetricType::kRatio) {
      validate_ratio(variant, input, field);
    } else if (input.metric_type == MetricType::kProportion) {
      require_non_negative(variant.sum, field("sum"));
      if (variant.sum > variant.n)
        invalid(field("sum"), "must not exceed n for a proportion metric");
    } else {
      require_finite(variant.sum, field("sum"));
      require_non_negative(variant.sum_squares, field("sum_squares"));
    }
    if (variant.covariate) {
      require_finite(variant.covariate->pre_sum, field("pre_sum"));
      require_non_negative(variant.covariate->pre_sum_squares, field("pre_sum_squares"));
      require_finite(variant.covariate->post_pre_sum_of_products,
                     field("post_pre_sum_of_products"));
    }
    if (input.metric_type != MetricType::kRatio) validate_sums(variant, field);
    if (variant.previous_min_sequential_p) {
      const double p = *variant.previous_min_sequential_p;
      if (!(p >= 0 && p <= 1)) invalid(field("previous_min_sequential_p"), "must be in [0, 1]");
    }
  }
  const bool any_covariate = std::any_of(
      input.variants.begin(), input.variants.end(),
      [&input](const VariantData& variant) { return input.carries_covariate(variant); });
  if (any_covariate && !input.has_covariate()) {
    for (std::size_t i = 0; i < input.variants.size(); ++i) {
      if (!input.carries_covariate(input.variants[i])) {
        invalid(index_field("variants", i,
                            input.metric_type == MetricType::kRatio ? "m_pre_sum" : "pre_sum"),
                "is required in every variant when any variant has a CUPED covariate");
      }
    }
  }
  if (input.weights.size() != input.variants.size()) {
    invalid("weights", "must have one entry per variant (" + std::to_string(input.variants.size()) +
                           "), got " + std::to_string(input.weights.size()));
  }
  for (std::size_t i = 0; i < input.weights.size(); ++i) {
    require_non_negative(input.weights[i], index_field("weights", i, ""));
  }
  if (std::accumulate(input.weights.begin(), input.weights.end(), 0.0) <= 0) {
    invalid("weights", "must not all be zero");
  }
  if (!(input.alpha > 0 && input.alpha < 1)) invalid("alpha", "must be between 0 and 1");
  if (!(input.sequential_tuning_parameter > 0) ||
      !std::isfinite(input.sequential_tuning_parameter)) {
    invalid("sequential_tuning_parameter", "must be a positive finite number");
  }
  require_finite(input.prior.mean, "prior.mean");
  if (!(input.prior.stddev > 0) || !std::isfinite(input.prior.stddev)) {
    invalid("prior.stddev", "must be a positive finite number");
  }
  // Floors that cannot all fit give the uniform split (gbstats), so only the range is checked.
  if (!(input.bandit_floor >= 0 && input.bandit_floor <= 1))
    invalid("bandit_floor", "must be between 0 and 1");
  require_non_negative(input.bandit_min_units, "bandit_min_units");
}

AnalysisInput parse_analysis_input(const json::value& json) {
  const json::object& object = as_object(json, "input");
  AnalysisInput input;

  const std::string metric_type = string_or(object, "metric_type", "metric_type", "mean");
  if (metric_type == "proportion") {
    input.metric_type = MetricType::kProportion;
  } else if (metric_type == "ratio") {
    input.metric_type = MetricType::kRatio;
    input.numerator_type = component_type(object, "numerator_type");
    input.denominator_type = component_type(object, "denominator_type");
  } else if (metric_type != "mean") {
    invalid("metric_type", "must be \"proportion\", \"mean\" or \"ratio\"");
  }

  const json::value* variants = find(object, "variants");
  if (!variants || !variants->is_array()) invalid("variants", "must be an array");
  for (std::size_t i = 0; i < variants->get_array().size(); ++i) {
    const json::value& variant = variants->get_array()[i];
    const json::object& fields = as_object(variant, index_field("variants", i, ""));
    input.variants.push_back(input.metric_type == MetricType::kRatio
                                 ? parse_ratio_variant(fields, i, input)
                                 : parse_variant(fields, i, input.metric_type));
  }

  if (const json::value* weights = find(object, "weights")) {
    if (!weights->is_array()) invalid("weights", "must be an array of numbers");
    for (std::size_t i = 0; i < weights->get_array().size(); ++i) {
      input.weights.push_back(to_double(weights->get_array()[i], index_field("weights", i, "")));
    }
  } else {
    input.weights.assign(input.variants.size(), 1.0);
  }

  input.alpha = number_or(object, "alpha", "alpha", input.alpha);
  const std::string difference =
      string_or(object, "difference_type", "difference_type", "relative");
  if (difference == "absolute") {
    input.difference_type = DifferenceType::kAbsolute;
  } else if (difference != "relative") {
    invalid("difference_type", "must be \"relative\" or \"absolute\"");
  }
  input.sequential_tuning_parameter =
      number_or(object, "sequential_tuning_parameter", "sequential_tuning_parameter",
                input.sequential_tuning_parameter);
  if (const json::value* prior = find(object, "prior")) {
    const json::object& prior_object = as_object(*prior, "prior");
    input.prior.mean = number_or(prior_object, "mean", "prior.mean", input.prior.mean);
    input.prior.stddev = number_or(prior_object, "stddev", "prior.stddev", input.prior.stddev);
    input.prior.proper = bool_or(prior_object, "proper", "prior.proper", input.prior.proper);
  }
  const std::string prior_type = string_or(object, "prior_type", "prior_type", "relative");
  if (prior_type == "absolute") {
    input.prior.scale = PriorScale::kAbsolute;
  } else if (prior_type != "relative") {
    invalid("prior_type", "must be \"relative\" or \"absolute\"");
  }
  input.inverse = bool_or(object, "inverse", "inverse", input.inverse);
  input.metric_name = string_or(object, "metric_name", "metric_name", input.metric_name);
  input.bandit_floor = number_or(object, "bandit_floor", "bandit_floor", input.bandit_floor);
  input.bandit_min_units =
      number_or(object, "bandit_min_units", "bandit_min_units", input.bandit_min_units);

  validate(input);
  const double total = std::accumulate(input.weights.begin(), input.weights.end(), 0.0);
  for (double& weight : input.weights) weight /= total;
  return input;
}

}  // namespace verdict::stats
