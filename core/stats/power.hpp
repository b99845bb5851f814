#pragma once

#include "core/stats/analysis_input.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>

namespace verdict::stats {

/// One metric of a power calculation, on GrowthBook's power-calculator scale: a relative effect
/// on a per-unit mean (a conversion rate for a proportion metric).
struct PowerMetric {
  double effect_size = 0;  ///< relative lift to detect, 0.05 = +5 %
  double mean = 0;         ///< per-unit mean or conversion rate
  double variance = 0;     ///< per-unit variance: sd^2, or p(1-p) for a proportion
  /// Bayesian prior on the relative lift (used only by the Bayesian functions).
  bool proper = false;
  double prior_mean = 0;
  double prior_stddev = 0.3;
};

/// Standard error of the relative lift with `n_per_variation` units in each arm
/// (GrowthBook's powerStandardError: delta method, treatment mean = mean * (1 + effect)).
double power_standard_error(const PowerMetric& metric, double n_per_variation);

/// The same for the always-valid test: the fixed standard error widened by the ratio of the
/// confidence-sequence half-width to the fixed half-width (sequentialPowerStandardError);
/// `n_total` counts every variation's units.
double sequential_power_standard_error(const PowerMetric& metric, double n_total, int variations,
                                       double alpha, double tuning_parameter);

/// Two-sided power of a z-test for `effect` with this standard error (powerFrequentist).
double frequentist_power(double effect, double standard_error, double alpha);

/// Smallest relative effect detected with probability `power` (findMdeFrequentist: the root of
/// a quadratic in the treatment mean). `tuning_parameter` 0 is the fixed-horizon test. nullopt
/// when no positive solution exists (too few units for the variance).
std::optional<double> frequentist_mde(const PowerMetric& metric, double power, double n_total,
                                      int variations, double alpha, double tuning_parameter);

/// Probability that the Bayesian credible interval at level 1 - alpha excludes 0 when the true
/// relative effect is metric.effect_size (powerEstBayesian).
double bayesian_power(const PowerMetric& metric, double alpha, double n_per_variation);

/// Smallest relative effect with Bayesian power `power` (findMdeBayesian: a 1e-3 grid refined in
/// 1e-5 steps, accumulated in floating point as GrowthBook does). nullopt above 500 %.
std::optional<double> bayesian_mde(const PowerMetric& metric, double alpha, double power,
                                   double n_per_variation);

/// GrowthBook's pre-experiment power calculator (packages/shared/src/power/power.ts
/// powerMetricWeeks) on its PowerCalculationParams object; returns the same shape with NaN
/// effect sizes as null. Throws verdict::Error naming the field on bad input.
boost::json::object power_metric_weeks(const boost::json::value& params);

/// gbstats' mid-experiment power (run_mid_experiment_power, MidExperimentPower): how many more
/// units a running two-arm comparison needs to reach 80 % power for `target_mde`.
struct MidExperimentSettings {
  bool bayesian = false;
  bool sequential = false;
  bool p_value_corrected = false;  ///< Bonferroni over (variations - 1) * goal metrics
  double target_mde = 0.01;        ///< relative
  int num_variations = 2;
  int num_goal_metrics = 1;
  double target_power = 0.8;
};

/// `input` holds the control and one treatment; alpha, sequential tuning and prior come from it.
/// Returns {effectMoments, powerResponse (GrowthBook's PowerResponse), additionalUsers,
/// powerAtScalingFactor}.
boost::json::object mid_experiment_power(const AnalysisInput& input,
                                         const MidExperimentSettings& settings);

/// Reads the `mid_experiment` input of power-reference.json and runs mid_experiment_power.
boost::json::object mid_experiment_power(const boost::json::value& input);

/// Verdict's own planning request (see docs/statistics.md, "Planning").
struct PlanRequest {
  MetricType metric_type = MetricType::kProportion;
  double baseline = 0;  ///< conversion rate, or the per-unit mean
  double stddev = 0;    ///< per-unit standard deviation (mean metrics)
  int variants = 2;
  double alpha = 0.05;
  double power = 0.8;
  std::optional<double> mde;                  ///< relative effect to detect
  std::optional<double> sample_size_per_arm;  ///< units per arm available
  double tuning_parameter = 5000;
  std::optional<double> daily_traffic;  ///< units per day reaching the experiment's page
  double traffic_allocation = 1;        ///< share of that traffic included
};

/// Parses the planning fields of `do {type: "Experiment", verb: "plan", data}`. Throws
/// verdict::Error naming the field.
PlanRequest parse_plan_request(const boost::json::object& data);

/// Sample size per arm, MDE, power and duration for the fixed-horizon and the sequential test.
boost::json::object plan(const PlanRequest& request);

/// `verdict plan --input FILE`: dispatches on `kind` ("calculator", "mid_experiment", or a
/// Verdict plan request when absent).
boost::json::object plan_from_json(const boost::json::value& input);

}  // namespace verdict::stats
