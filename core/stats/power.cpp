#include "core/stats/power.hpp"

#include "core/error.hpp"
#include "core/stats/analysis.hpp"
#include "core/stats/frequentist.hpp"
#include "core/stats/json_fields.hpp"

#include <boost/json.hpp>
#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

namespace verdict::stats {
namespace {

namespace json = boost::json;

const boost::math::normal kStandardNormal;

double phi(double x) {
  return boost::math::cdf(kStandardNormal, x);
}

double phi_inverse(double p) {
  return boost::math::quantile(kStandardNormal, p);
}

// GrowthBook's frequentistVariance for the relative lift, control and treatment of equal size.
double relative_variance(double variance, double mean, double n, double treatment_mean) {
  return variance / (std::pow(mean, 2) * n) +
         (variance * std::pow(treatment_mean, 2)) / (std::pow(mean, 4) * n);
}

// sequentialPowerSequentialVariance: the per-unit variance that makes a fixed-horizon z-test as
// wide as the confidence sequence after `n` pairwise units.
double sequential_power_variance(double variance, double n, double alpha, double tuning) {
  const double sequential_se =
      sequential_half_width(variance, n, alpha, tuning) / phi_inverse(1 - 0.5 * alpha);
  return n * sequential_se * sequential_se;
}

// calculateCutpoint/getCutpoint of power.ts: the standardized bound the estimate must pass for
// the credible interval to exclude zero, relative scale.
double bayesian_cutpoint(const PowerMetric& metric, double alpha, double n_per_variation,
                         bool upper) {
  const double prior_variance = std::pow(metric.prior_stddev, 2);
  const double tau_hat_variance = std::pow(power_standard_error(metric, n_per_variation), 2);
  const double proper = metric.proper ? 1 : 0;
  const double posterior_precision = 1 / tau_hat_variance + proper / prior_variance;
  const double z = phi_inverse(1 - 0.5 * alpha);
  const double numerator =
      (upper ? 1 : -1) * tau_hat_variance * std::sqrt(posterior_precision) * z -
      (proper * (tau_hat_variance * metric.prior_mean)) / prior_variance - metric.effect_size;
  return numerator / std::sqrt(tau_hat_variance);
}

// The sweep of sweepGridFine: 1e-5 steps accumulated from effect - 1e-3, as power.ts does.
std::optional<double> sweep_grid_fine(PowerMetric metric, double alpha, double power,
                                      double n_per_variation, double step) {
  const double effect = metric.effect_size;
  const double finer = step / 100;
  for (double candidate = effect - step; candidate < effect; candidate += finer) {
    metric.effect_size = candidate;
    if (bayesian_power(metric, alpha, n_per_variation) >= power) return candidate;
  }
  return std::nullopt;
}

json::value number_or_null(double value) {
  return std::isfinite(value) ? json::value(value) : json::value(nullptr);
}

json::value optional_number(const std::optional<double>& value) {
  return value ? number_or_null(*value) : json::value(nullptr);
}

double required_number(const json::object& object, const char* key, const std::string& field) {
  const json::value* value = find(object, key);
  if (!value) invalid(field, "is required");
  const double number = to_double(*value, field);
  if (!std::isfinite(number)) invalid(field, "must be a finite number");
  return number;
}

void require_range(double value, double low, double high, const std::string& field,
                   const std::string& wording) {
  if (!(value > low && value < high)) invalid(field, wording);
}

int whole_number(double value, int low, int high, const std::string& field) {
  if (value != std::floor(value) || value < low || value > high)
    invalid(field,
            "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high));
  return static_cast<int>(value);
}

// One entry of PowerCalculationParams.metrics.
PowerMetric parse_calculator_metric(const json::object& object, const std::string& where) {
  PowerMetric metric;
  const std::string type = string_or(object, "type", where + "type", "");
  metric.effect_size = required_number(object, "effectSize", where + "effectSize");
  if (type == "binomial") {
    metric.mean = required_number(object, "conversionRate", where + "conversionRate");
    require_range(metric.mean, 0, 1, where + "conversionRate", "must be between 0 and 1");
    metric.variance = metric.mean * (1 - metric.mean);
  } else if (type == "mean") {
    metric.mean = required_number(object, "mean", where + "mean");
    const double sd = required_number(object, "standardDeviation", where + "standardDeviation");
    if (!(sd > 0)) invalid(where + "standardDeviation", "must be positive");
    metric.variance = sd * sd;
  } else {
    invalid(where + "type", "must be \"binomial\" or \"mean\"");
  }
  if (metric.mean == 0) invalid(where + "mean", "must not be 0: the effect is relative to it");
  const bool override_prior =
      bool_or(object, "overrideMetricLevelSettings", where + "overrideMetricLevelSettings", false);
  const std::string prefix = override_prior ? "override" : "metric";
  const auto key = [&](const char* suffix) { return prefix + suffix; };
  metric.proper = bool_or(object, key("Proper").c_str(), where + key("Proper"), false);
  metric.prior_mean =
      number_or(object, key("PriorLiftMean").c_str(), where + key("PriorLiftMean"), 0);
  metric.prior_stddev = number_or(object, key("PriorLiftStandardDeviation").c_str(),
                                  where + key("PriorLiftStandardDeviation"), 0.3);
  if (metric.proper && !(metric.prior_stddev > 0))
    invalid(where + key("PriorLiftStandardDeviation"), "must be positive for a proper prior");
  return metric;
}

// MidExperimentPower.power: power for the target MDE after scaling the sample by 1 + s.
struct MidExperiment {
  const MidExperimentSettings& settings;
  const AnalysisInput& input;
  double pairwise_n = 0;
  double sigma2 = 0;
  int num_tests = 1;
  double multiplier = 0;
  double adjusted_power = 0;

  double power(double scaling) const {
    const double adjusted_variance = sigma2 / (1 + scaling);
    const double sd = std::sqrt(adjusted_variance);
    const double mde = std::abs(settings.target_mde);
    if (settings.bayesian && input.prior.proper) {
      const double prior_variance = input.prior.stddev * input.prior.stddev;
      const double precision = 1 / prior_variance + 1 / adjusted_variance;
      const double a = adjusted_variance * std::sqrt(precision) * multiplier;
      const double b = adjusted_variance * input.prior.mean / prior_variance;
      return 1 - phi((a - b - mde) / sd) + phi(-(a + b + mde) / sd);
    }
    double half_width = multiplier * sd;
    if (settings.sequential) {
      half_width =
          sequential_half_width(pairwise_n * sigma2, pairwise_n * (1 + scaling),
                                input.alpha / num_tests, input.sequential_tuning_parameter);
    }
    return 1 - phi((half_width - mde) / sd) + phi(-(half_width + mde) / sd);
  }
};

struct ScalingSearch {
  std::optional<double> factor;
  std::string error;
};

// calculate_scaling_factor: doubling from 1 (at most 27 times), then bisection to 1e-5 power.
ScalingSearch scaling_factor(const MidExperiment& model) {
  if (model.power(0) > model.adjusted_power) return {0.0, ""};
  double factor = 1;
  double current = model.power(factor);
  for (int i = 0; i < 27 && current < model.adjusted_power; ++i) current = model.power(factor *= 2);
  if (current < model.adjusted_power)
    return {std::nullopt, "could not find upper bound for scaling factor"};
  double lower = 0;
  double upper = factor;
  double diff = current - model.adjusted_power;
  for (int iteration = 0; iteration < 100; ++iteration) {
    (diff > 0 ? upper : lower) = factor;
    factor = 0.5 * (lower + upper);
    diff = model.power(factor) - model.adjusted_power;
    if (std::abs(diff) < 1e-5) return {factor, ""};
  }
  return {std::nullopt, "bisection search did not converge"};
}

// Smallest whole number of units per arm at which `power_at` reaches `target`; power grows
// with the sample, so bracket by doubling and bisect.
std::optional<double> units_for_power(const std::function<double(double)>& power_at,
                                      double target) {
  constexpr double kMaxUnits = 9007199254740992.0;
  double high = 2;
  while (power_at(high) < target) {
    if (high >= kMaxUnits) return std::nullopt;
    high *= 2;
  }
  double low = high / 2;
  if (power_at(low) >= target) return low;
  while (high - low > 1) {
    const double mid = std::floor((low + high) / 2);
    (power_at(mid) >= target ? high : low) = mid;
  }
  return high;
}

json::object plan_one(const PlanRequest& request, const PowerMetric& metric, bool sequential) {
  const int k = request.variants;
  const double tuning = sequential ? request.tuning_parameter : 0;
  const auto se_at = [&](const PowerMetric& m, double per_arm) {
    return sequential ? sequential_power_standard_error(m, per_arm * k, k, request.alpha, tuning)
                      : power_standard_error(m, per_arm);
  };
  json::object out;
  std::optional<double> per_arm = request.sample_size_per_arm;
  if (request.mde) {
    PowerMetric target = metric;
    target.effect_size = *request.mde;
    const auto needed = units_for_power(
        [&](double n) { return frequentist_power(*request.mde, se_at(target, n), request.alpha); },
        request.power);
    out["sampleSizePerArm"] = needed ? json_count(*needed) : json::value(nullptr);
    out["totalSampleSize"] = needed ? json_count(*needed * k) : json::value(nullptr);
    if (!request.sample_size_per_arm) per_arm = needed;
    if (per_arm)
      out["power"] = frequentist_power(*request.mde, se_at(target, *per_arm), request.alpha);
  }
  if (request.sample_size_per_arm) {
    out["mdeAtSampleSize"] = optional_number(frequentist_mde(
        metric, request.power, *request.sample_size_per_arm * k, k, request.alpha, tuning));
  }
  if (request.daily_traffic && per_arm) {
    const double daily = *request.daily_traffic * request.traffic_allocation;
    out["days"] = json_count(std::ceil(*per_arm * k / daily));
  }
  return out;
}

}  // namespace

double power_standard_error(const PowerMetric& metric, double n_per_variation) {
  return std::sqrt(relative_variance(metric.variance, metric.mean, n_per_variation,
                                     metric.mean * (1 + metric.effect_size)));
}

double sequential_power_standard_error(const PowerMetric& metric, double n_total, int variations,
                                       double alpha, double tuning_parameter) {
  const double n_arm = n_total / variations;
  const double variance = relative_variance(metric.variance, metric.mean, n_arm,
                                            metric.mean * (1.0 + metric.effect_size));
  return std::sqrt(
      sequential_power_variance(variance, (2 * n_total) / variations, alpha, tuning_parameter));
}

double frequentist_power(double effect, double standard_error, double alpha) {
  const double z = phi_inverse(1.0 - 0.5 * alpha);
  const double standardized = effect / standard_error;
  return 1 - phi(z - standardized) + phi(-z - standardized);
}

std::optional<double> frequentist_mde(const PowerMetric& metric, double power, double n_total,
                                      int variations, double alpha, double tuning_parameter) {
  if (power <= alpha) return std::nullopt;
  const double n_arm = n_total / variations;
  const double z = phi_inverse(1.0 - 0.5 * alpha) - phi_inverse(1.0 - power);
  const double m = metric.mean;
  double v = metric.variance;
  if (tuning_parameter > 0)
    v = sequential_power_variance(metric.variance, 2 * n_arm, alpha, tuning_parameter);
  if (n_arm <= (v * z * z) / (m * m)) return std::nullopt;
  const double sigma2 = v / n_arm;
  const double a = 1 - (z * z * sigma2) / (m * m);
  const double b = -2 * m;
  const double c = m * m - z * z * sigma2;
  const double root = (-b + std::sqrt(b * b - 4 * a * c)) / (2 * a);
  return (root - m) / m;
}

double bayesian_power(const PowerMetric& metric, double alpha, double n_per_variation) {
  return 1.0 - phi(bayesian_cutpoint(metric, alpha, n_per_variation, true)) +
         phi(bayesian_cutpoint(metric, alpha, n_per_variation, false));
}

std::optional<double> bayesian_mde(const PowerMetric& metric, double alpha, double power,
                                   double n_per_variation) {
  PowerMetric probe = metric;
  probe.effect_size = 0;
  if (bayesian_power(probe, alpha, n_per_variation) >= power) return 0.0;
  constexpr double kCoarse = 1e-3;
  const double max_error = boost::math::pdf(kStandardNormal, 0.0) * kCoarse;
  for (int i = 0; i < 5000; ++i) {
    probe.effect_size = kCoarse * i;
    if (bayesian_power(probe, alpha, n_per_variation) >= power - max_error)
      if (auto fine = sweep_grid_fine(probe, alpha, power, n_per_variation, kCoarse)) return fine;
  }
  return std::nullopt;
}

json::object power_metric_weeks(const json::value& value) {
  const json::object& params = as_object(value, "params");
  const json::value* metrics_value = find(params, "metrics");
  if (!metrics_value) invalid("params.metrics", "is required");
  const json::object& metrics = as_object(*metrics_value, "params.metrics");
  if (metrics.empty()) invalid("params.metrics", "must name at least one metric");
  const int k = whole_number(required_number(params, "nVariations", "params.nVariations"), 2, 1000,
                             "params.nVariations");
  const int weeks_count =
      whole_number(required_number(params, "nWeeks", "params.nWeeks"), 1, 520, "params.nWeeks");
  const double alpha = required_number(params, "alpha", "params.alpha");
  require_range(alpha, 0, 1, "params.alpha", "must be between 0 and 1");
  const double users_per_week = required_number(params, "usersPerWeek", "params.usersPerWeek");
  if (!(users_per_week > 0)) invalid("params.usersPerWeek", "must be positive");
  const double target_power = number_or(params, "targetPower", "params.targetPower", 0.8);
  const json::value* engine_value = find(params, "statsEngineSettings");
  if (!engine_value) invalid("params.statsEngineSettings", "is required");
  const json::object& engine = as_object(*engine_value, "params.statsEngineSettings");
  const std::string type = string_or(engine, "type", "params.statsEngineSettings.type", "");
  if (type != "frequentist" && type != "bayesian")
    invalid("params.statsEngineSettings.type", "must be \"frequentist\" or \"bayesian\"");
  double tuning = 0;
  if (const json::value* sequential = find(engine, "sequentialTesting");
      sequential && !sequential->is_bool()) {
    tuning = to_double(*sequential, "params.statsEngineSettings.sequentialTesting");
    if (!(tuning > 0) || !std::isfinite(tuning))
      invalid("params.statsEngineSettings.sequentialTesting", "must be false or a positive N*");
  } else if (sequential && sequential->get_bool()) {
    invalid("params.statsEngineSettings.sequentialTesting", "must be false or a positive N*");
  }

  json::array weeks;
  for (int j = 0; j < weeks_count; ++j)
    weeks.push_back(
        json::object{{"users", json_count((j + 1) * users_per_week)}, {"metrics", json::object{}}});
  json::object sample_sizes;
  int duration = 0;
  bool all_reached = true;
  for (const auto& entry : metrics) {
    const std::string id(entry.key());
    const PowerMetric metric = parse_calculator_metric(
        as_object(entry.value(), "params.metrics." + id), "params.metrics." + id + ".");
    double mde = std::numeric_limits<double>::quiet_NaN();
    std::optional<int> sample_week;
    std::optional<int> threshold;
    for (int j = 0; j < weeks_count; ++j) {
      const double n = users_per_week * (j + 1);
      double power = 0;
      std::optional<double> week_mde;
      if (type == "frequentist") {
        const double se = tuning > 0 ? sequential_power_standard_error(metric, n, k, alpha, tuning)
                                     : power_standard_error(metric, n / k);
        power = frequentist_power(metric.effect_size, se, alpha);
        week_mde = frequentist_mde(metric, 0.8, n, k, alpha, tuning);
      } else {
        power = bayesian_power(metric, alpha, n / k);
        week_mde = bayesian_mde(metric, alpha, 0.8, n / k);
      }
      // power.ts: the run time rounds power to two decimals; the threshold mark does not.
      if (!sample_week && std::round(power * 100) / 100 >= 0.8) sample_week = j + 1;
      if (week_mde) mde = *week_mde;
      if (!threshold && target_power < power) threshold = j;
      weeks[j].as_object()["metrics"].as_object()[id] = json::object{
          {"effectSize", number_or_null(mde)}, {"power", power}, {"isThreshold", threshold == j}};
    }
    if (sample_week) {
      sample_sizes[id] = json::object{{"weeks", *sample_week},
                                      {"users", json_count(users_per_week * *sample_week)}};
      duration = std::max(duration, *sample_week);
    } else {
      sample_sizes[id] = nullptr;
      all_reached = false;
    }
  }
  json::object out{{"type", "success"},
                   {"sampleSizeAndRuntime", std::move(sample_sizes)},
                   {"weeks", std::move(weeks)}};
  if (all_reached) out["weekThreshold"] = duration;
  return out;
}

json::object mid_experiment_power(const AnalysisInput& input,
                                  const MidExperimentSettings& settings) {
  if (input.variants.size() != 2)
    invalid("variants", "mid-experiment power compares exactly a control and one treatment");
  AnalysisInput relative = input;
  relative.difference_type = DifferenceType::kRelative;
  const EffectEstimate effect = analyze(relative).comparisons.at(0).effect;

  MidExperiment model{settings, input};
  model.pairwise_n = effect.valid ? effect.total_n : 0;
  model.sigma2 = effect.valid ? effect.standard_error * effect.standard_error : 0;
  const bool corrected = settings.p_value_corrected && !settings.bayesian;
  model.num_tests = corrected ? (settings.num_variations - 1) * settings.num_goal_metrics : 1;
  model.multiplier = phi_inverse(1 - input.alpha / (2 * model.num_tests));
  model.adjusted_power = std::pow(settings.target_power, 1.0 / settings.num_goal_metrics);

  json::object response{{"firstPeriodPairwiseSampleSize", json_count(model.pairwise_n)},
                        {"targetMDE", settings.target_mde},
                        {"sigmahat2Delta", model.sigma2},
                        {"priorProper", nullptr},
                        {"priorLiftMean", nullptr},
                        {"priorLiftVariance", nullptr}};
  if (settings.bayesian) {
    response["priorProper"] = input.prior.proper;
    response["priorLiftMean"] = input.prior.mean;
    response["priorLiftVariance"] = input.prior.stddev * input.prior.stddev;
  }
  json::value additional = nullptr;
  json::value power_reached = nullptr;
  if (!effect.valid) {
    response["status"] = "unsuccessful";
    response["errorMessage"] = effect.error;
    response["upperBoundAchieved"] = false;
    response["scalingFactor"] = nullptr;
  } else {
    const ScalingSearch search = scaling_factor(model);
    response["status"] = search.factor ? "successful" : "unsuccessful";
    response["errorMessage"] =
        search.error.empty() ? json::value(nullptr) : json::value(search.error);
    response["upperBoundAchieved"] = !search.factor;
    response["scalingFactor"] = optional_number(search.factor);
    // gbstats: an already powered comparison (factor 0) needs no additional users: None.
    if (search.factor && *search.factor > 0) additional = model.pairwise_n * *search.factor;
    if (search.factor) power_reached = model.power(*search.factor);
  }
  return json::object{
      {"effectMoments", json::object{{"pointEstimate", effect.estimate},
                                     {"standardError", effect.standard_error},
                                     {"pairwiseSampleSize", json_count(model.pairwise_n)},
                                     {"errorMessage", effect.valid ? json::value(nullptr)
                                                                   : json::value(effect.error)}}},
      {"powerResponse", std::move(response)},
      {"targetPower", model.adjusted_power},
      {"additionalUsers", std::move(additional)},
      {"powerAtScalingFactor", std::move(power_reached)}};
}

json::object mid_experiment_power(const json::value& value) {
  const AnalysisInput input = parse_analysis_input(value);
  const json::object& object = value.as_object();
  MidExperimentSettings settings;
  const std::string engine = string_or(object, "engine", "engine", "frequentist");
  if (engine != "frequentist" && engine != "bayesian")
    invalid("engine", "must be \"frequentist\" or \"bayesian\"");
  settings.bayesian = engine == "bayesian";
  settings.sequential = bool_or(object, "sequential", "sequential", false);
  settings.p_value_corrected = bool_or(object, "p_value_corrected", "p_value_corrected", false);
  settings.target_mde = required_number(object, "target_mde", "target_mde");
  if (!(settings.target_mde != 0)) invalid("target_mde", "must not be 0");
  settings.num_variations = whole_number(number_or(object, "num_variations", "num_variations", 2),
                                         2, 1000, "num_variations");
  settings.num_goal_metrics = whole_number(
      number_or(object, "num_goal_metrics", "num_goal_metrics", 1), 1, 1000, "num_goal_metrics");
  return mid_experiment_power(input, settings);
}

PlanRequest parse_plan_request(const json::object& data) {
  static constexpr const char* kFields[] = {"metricType",
                                            "baseline",
                                            "stddev",
                                            "variants",
                                            "alpha",
                                            "power",
                                            "mde",
                                            "sampleSizePerArm",
                                            "sequentialTuningParameter",
                                            "dailyTraffic",
                                            "trafficAllocation",
                                            "kind",
                                            "version"};
  for (const auto& entry : data) {
    if (std::find(std::begin(kFields), std::end(kFields), entry.key()) == std::end(kFields))
      invalid(std::string(entry.key()),
              "unknown planning field (allowed: metricType, baseline, stddev, variants, alpha, "
              "power, mde, sampleSizePerArm, sequentialTuningParameter, dailyTraffic, "
              "trafficAllocation)");
  }
  PlanRequest request;
  const std::string type = string_or(data, "metricType", "metricType", "proportion");
  if (type == "mean") {
    request.metric_type = MetricType::kMean;
  } else if (type != "proportion") {
    invalid("metricType", "must be \"proportion\" or \"mean\"");
  }
  request.baseline = required_number(data, "baseline", "baseline");
  if (request.metric_type == MetricType::kProportion) {
    require_range(request.baseline, 0, 1, "baseline",
                  "must be a conversion rate between 0 and 1 (exclusive)");
  } else {
    if (request.baseline == 0) invalid("baseline", "must not be 0: the effect is relative to it");
    request.stddev = required_number(data, "stddev", "stddev");
    if (!(request.stddev > 0)) invalid("stddev", "must be positive");
  }
  request.variants = whole_number(number_or(data, "variants", "variants", 2), 2, 100, "variants");
  request.alpha = number_or(data, "alpha", "alpha", request.alpha);
  require_range(request.alpha, 0, 0.5, "alpha", "must be between 0 and 0.5");
  request.power = number_or(data, "power", "power", request.power);
  require_range(request.power, request.alpha, 1, "power", "must be between alpha and 1");
  if (find(data, "mde")) {
    request.mde = required_number(data, "mde", "mde");
    if (!(*request.mde > 0))
      invalid("mde", "must be a positive relative effect, e.g. 0.05 for +5 %");
  }
  if (find(data, "sampleSizePerArm")) {
    request.sample_size_per_arm = required_number(data, "sampleSizePerArm", "sampleSizePerArm");
    if (!(*request.sample_size_per_arm >= 2) ||
        *request.sample_size_per_arm != std::floor(*request.sample_size_per_arm))
      invalid("sampleSizePerArm", "must be a whole number of at least 2");
  }
  if (!request.mde && !request.sample_size_per_arm)
    invalid("mde", "give mde (the relative effect to detect) or sampleSizePerArm, or both");
  request.tuning_parameter =
      number_or(data, "sequentialTuningParameter", "sequentialTuningParameter", 5000);
  if (!(request.tuning_parameter > 0) || !std::isfinite(request.tuning_parameter))
    invalid("sequentialTuningParameter", "must be a positive finite number");
  if (find(data, "dailyTraffic")) {
    request.daily_traffic = required_number(data, "dailyTraffic", "dailyTraffic");
    if (!(*request.daily_traffic > 0)) invalid("dailyTraffic", "must be positive units per day");
  }
  request.traffic_allocation =
      number_or(data, "trafficAllocation", "trafficAllocation", request.traffic_allocation);
  if (!(request.traffic_allocation > 0 && request.traffic_allocation <= 1)) {
    // An Experiment's trafficAllocation is a percentage; planning's is the fraction it means.
    std::string reason = "must be a fraction in (0, 1]";
    if (request.traffic_allocation > 1 && request.traffic_allocation <= 100) {
      char fraction[32];
      std::snprintf(fraction, sizeof fraction, "%g", request.traffic_allocation / 100);
      reason += std::string("; did you mean ") + fraction + "?";
    }
    invalid("trafficAllocation", reason);
  }
  return request;
}

json::object plan(const PlanRequest& request) {
  PowerMetric metric;
  metric.mean = std::abs(request.baseline);
  metric.variance = request.metric_type == MetricType::kProportion
                        ? request.baseline * (1 - request.baseline)
                        : request.stddev * request.stddev;
  json::object fixed = plan_one(request, metric, false);
  json::object sequential = plan_one(request, metric, true);
  json::object out{{"fixedHorizon", fixed}, {"sequential", sequential}};
  const json::value* fixed_n = fixed.if_contains("sampleSizePerArm");
  const json::value* sequential_n = sequential.if_contains("sampleSizePerArm");
  if (fixed_n && sequential_n && fixed_n->is_number() && sequential_n->is_number()) {
    const double extra = sequential_n->to_number<double>() - fixed_n->to_number<double>();
    out["sequentialExtraUnitsPerArm"] = json_count(extra);
    out["sequentialExtraShare"] = extra / fixed_n->to_number<double>();
  }
  out["settings"] = json::object{
      {"metricType", request.metric_type == MetricType::kProportion ? "proportion" : "mean"},
      {"baseline", request.baseline},
      {"variants", request.variants},
      {"alpha", request.alpha},
      {"power", request.power},
      {"sequentialTuningParameter", request.tuning_parameter},
      {"trafficAllocation", request.traffic_allocation}};
  return out;
}

json::object plan_from_json(const json::value& input) {
  const json::object& object = as_object(input, "input");
  const std::string kind = string_or(object, "kind", "kind", "plan");
  if (kind == "calculator") {
    const json::value* params = find(object, "params");
    if (!params) invalid("params", "is required for kind \"calculator\"");
    return power_metric_weeks(*params);
  }
  if (kind == "mid_experiment") return mid_experiment_power(input);
  if (kind != "plan") invalid("kind", "must be \"plan\", \"calculator\" or \"mid_experiment\"");
  return plan(parse_plan_request(object));
}

}  // namespace verdict::stats
