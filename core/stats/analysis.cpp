#include "core/stats/analysis.hpp"

#include "core/error.hpp"
#include "core/stats/json_fields.hpp"
#include "core/stats/multiple_testing.hpp"
#include "core/stats/ratio.hpp"
#include "core/stats/recommendation.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace verdict::stats {
namespace {

namespace json = boost::json;

RatioTypes ratio_types(const AnalysisInput& input) {
  return {input.numerator_type, input.denominator_type};
}

// The per-unit statistic of an arm of this input's metric, ratios included.
ArmStatistic arm_statistic(const AnalysisInput& input, const VariantData& variant) {
  return input.metric_type == MetricType::kRatio ? ratio_arm_statistic(variant, ratio_types(input))
                                                 : arm_statistic(variant, input.metric_type);
}

Comparison compare(const AnalysisInput& input, std::size_t treatment) {
  const VariantData& control_data = input.variants.front();
  const VariantData& treatment_data = input.variants[treatment];
  Comparison comparison;
  comparison.variant = treatment;

  ArmStatistic control = arm_statistic(input, control_data);
  ArmStatistic variant = arm_statistic(input, treatment_data);
  std::optional<double> relative_variance;
  if (input.metric_type == MetricType::kRatio) {
    if (const auto cuped =
            ratio_cuped_adjustment(control_data, treatment_data, ratio_types(input))) {
      control = cuped->control;
      variant = cuped->treatment;
      relative_variance = cuped->relative_variance;
      comparison.cuped = CupedSummary{cuped->theta, {control.variance, variant.variance}};
    }
  } else if (const auto cuped = cuped_adjustment(control_data, treatment_data, input.metric_type)) {
    control = cuped->control;
    variant = cuped->treatment;
    comparison.cuped = CupedSummary{cuped->theta, {control.variance, variant.variance}};
  }
  comparison.effect = estimate_effect(control, variant, input.difference_type, relative_variance);
  static_cast<FixedHorizonResult&>(comparison.lift) =
      fixed_horizon_test(comparison.effect, input.alpha);
  comparison.sequential =
      sequential_test(comparison.effect, input.alpha, input.sequential_tuning_parameter);
  comparison.running_min_p =
      running_min_p(treatment_data.previous_min_sequential_p, comparison.sequential.p_value);
  comparison.bayesian = bayesian_test(
      comparison.effect, scaled_prior(input.prior, input.difference_type, control.unadjusted_mean),
      input.alpha, input.inverse);
  return comparison;
}

void adjust_p_values(std::vector<Comparison>& comparisons) {
  std::vector<double> p_values;
  for (const Comparison& comparison : comparisons) p_values.push_back(comparison.lift.p_value);
  const std::vector<double> holm = holm_adjust(p_values);
  const std::vector<double> bh = benjamini_hochberg_adjust(p_values);
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    comparisons[i].lift.p_value_holm = holm[i];
    comparisons[i].lift.p_value_bh = bh[i];
  }
}

// Index of the comparison whose arm looks best, or nullopt when the control does. P(best) of
// the bandit already honours `inverse`; the effects are turned so that larger is better.
std::optional<std::size_t> leading_comparison(const AnalysisInput& input,
                                              const AnalysisResult& result) {
  if (result.bandit && !result.bandit->probability_best.empty()) {
    const auto& best = result.bandit->probability_best;
    const auto arm =
        static_cast<std::size_t>(std::max_element(best.begin(), best.end()) - best.begin());
    if (arm > 0 && result.comparisons[arm - 1].effect.valid) return arm - 1;
    if (arm == 0) return std::nullopt;
  }
  std::optional<std::size_t> leader;
  double best_gain = 0;
  for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
    const Comparison& comparison = result.comparisons[i];
    const double gain = input.inverse ? -comparison.effect.estimate : comparison.effect.estimate;
    if (comparison.effect.valid && gain > best_gain) {
      best_gain = gain;
      leader = i;
    }
  }
  return leader;
}

Decision decide(const AnalysisInput& input, const AnalysisResult& result) {
  Decision decision;
  for (const Comparison& comparison : result.comparisons)
    decision.p_values.push_back(comparison.running_min_p);
  if (decision.p_values.size() > 1) decision.p_values = holm_adjust(decision.p_values);
  decision.leader = leading_comparison(input, result);
  if (result.srm.mismatch || result.comparisons.empty()) return decision;
  const auto significant = [&](std::size_t i) {
    return result.comparisons[i].effect.valid && decision.p_values[i] < input.alpha;
  };
  if (decision.leader) {
    if (significant(*decision.leader)) {
      decision.winner = result.comparisons[*decision.leader].variant;
      decision.confidence = 100 * (1 - decision.p_values[*decision.leader]);
    }
    return decision;
  }
  // The control leads: it wins only when every treatment is significantly worse.
  double weakest = 0;
  for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
    if (!significant(i)) return decision;
    weakest = std::max(weakest, decision.p_values[i]);
  }
  decision.winner = 0;
  decision.confidence = 100 * (1 - weakest);
  return decision;
}

json::array pair(const std::array<double, 2>& values) {
  return {values[0], values[1]};
}

json::array numbers(const std::vector<double>& values) {
  return json::array(values.begin(), values.end());
}

json::value bandit_json(const std::optional<ThompsonSampler::Result>& bandit) {
  if (!bandit) return nullptr;
  json::array alpha_beta;
  for (const BetaPosterior& posterior : bandit->posteriors) {
    alpha_beta.push_back(json::array{json_count(posterior.alpha), json_count(posterior.beta)});
  }
  return json::object{{"alpha_beta", std::move(alpha_beta)},
                      {"probability_best", numbers(bandit->probability_best)},
                      {"weights", numbers(bandit->weights)}};
}

json::object comparison_json(const Comparison& comparison, double p_value_decision) {
  const LiftResult& lift = comparison.lift;
  json::value cuped = nullptr;
  if (comparison.cuped) {
    cuped = json::object{{"theta", comparison.cuped->theta},
                         {"adjusted_variance", pair(comparison.cuped->adjusted_variance)}};
  }
  return {{"variant", comparison.variant},
          {"lift",
           {{"estimate", lift.estimate},
            {"se", lift.standard_error},
            {"ci", pair(lift.ci)},
            {"p_value", lift.p_value},
            {"p_value_holm", lift.p_value_holm},
            {"p_value_bh", lift.p_value_bh}}},
          {"sequential",
           {{"log_lr_current", comparison.sequential.log_lr},
            {"p_value_current", comparison.sequential.p_value},
            {"ci", pair(comparison.sequential.ci)},
            {"p_value", comparison.running_min_p},
            {"p_value_holm", p_value_decision}}},
          {"bayesian",
           {{"chance_to_win", comparison.bayesian.chance_to_win},
            {"ci", pair(comparison.bayesian.ci)},
            {"risk", pair(comparison.bayesian.risk)}}},
          {"cuped", std::move(cuped)},
          {"error",
           comparison.effect.valid ? json::value(nullptr) : json::value(comparison.effect.error)}};
}

json::value optional_index(const std::optional<std::size_t>& index) {
  return index ? json::value(*index) : json::value(nullptr);
}

}  // namespace

double running_min_p(std::optional<double> previous, double current) {
  return previous ? std::min(*previous, current) : current;
}

AnalysisResult analyze(const AnalysisInput& input) {
  validate(input);
  AnalysisResult result;
  std::vector<double> units;
  for (const VariantData& variant : input.variants) {
    const ArmStatistic arm = arm_statistic(input, variant);
    result.variants.push_back({variant.n, arm.mean, arm.variance});
    units.push_back(variant.n);
  }
  result.srm = sample_ratio_mismatch(units, input.weights);
  for (std::size_t i = 1; i < input.variants.size(); ++i) {
    result.comparisons.push_back(compare(input, i));
  }
  adjust_p_values(result.comparisons);

  if (input.metric_type == MetricType::kProportion) {
    std::vector<ArmCounts> arms;
    for (const VariantData& variant : input.variants) arms.push_back({variant.n, variant.sum});
    const ThompsonSampler sampler({input.bandit_floor, input.bandit_min_units, input.inverse});
    result.bandit = sampler.update(arms, input.weights);
  }
  result.decision = decide(input, result);
  result.recommendation = recommend(input, result);
  return result;
}

namespace {

// Validated input keeps every statistic finite; this is the last line of defence, so that no
// output ever carries NaN or infinity (which JSON cannot express).
void require_finite(const json::value& value, const std::string& path) {
  if (value.is_double() && !std::isfinite(value.get_double()))
    throw Error(ErrorCode::kInternal, path + ": the analysis produced a non-finite number");
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.get_array().size(); ++i)
      require_finite(value.get_array()[i], path + "[" + std::to_string(i) + "]");
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.get_object())
      require_finite(child, path + "." + std::string(key));
  }
}

}  // namespace

json::object to_json(const AnalysisResult& result) {
  json::array variants;
  for (const VariantSummary& variant : result.variants) {
    variants.push_back(json::object{
        {"n", json_count(variant.n)}, {"mean", variant.mean}, {"variance", variant.variance}});
  }
  json::array comparisons;
  for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
    comparisons.push_back(comparison_json(result.comparisons[i], result.decision.p_values[i]));
  }
  json::object out{
      {"variants", std::move(variants)},
      {"srm",
       {{"chi2", result.srm.chi2},
        {"p_value", result.srm.p_value},
        {"mismatch", result.srm.mismatch}}},
      {"comparisons", std::move(comparisons)},
      {"bandit", bandit_json(result.bandit)},
      {"decision",
       {{"leader", result.decision.leader
                       ? optional_index(result.comparisons[*result.decision.leader].variant)
                       : json::value(0)},
        {"winner", optional_index(result.decision.winner)},
        {"confidence",
         result.decision.winner ? json::value(result.decision.confidence) : nullptr}}},
      {"recommendation", result.recommendation}};
  require_finite(out, "$");
  return out;
}

}  // namespace verdict::stats
