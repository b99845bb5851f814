#include "core/stats/recommendation.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace verdict::stats {
namespace {

template <typename... Args>
std::string format(const char* pattern, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, pattern, args...);
  return buffer;
}

std::string format_p(double p) {
  return p < 0.001 ? "p < 0.001" : format("p = %.2g", p);
}

std::string format_effect(double value, const AnalysisInput& input) {
  if (input.difference_type == DifferenceType::kRelative) {
    const double percent = 100 * value;
    return std::abs(percent) >= 1 ? format("%+.1f%%", percent) : format("%+.2g%%", percent);
  }
  if (input.metric_type == MetricType::kProportion) return format("%+.2f pp", 100 * value);
  return format("%+.3g", value);
}

// Two significant figures with thousands separators: "48,000".
std::string format_units(double units) {
  const double magnitude = std::pow(10.0, std::max(0.0, std::floor(std::log10(units)) - 1));
  const std::string digits = format("%.0f", std::round(units / magnitude) * magnitude);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

// A probability as a percentage that never rounds to 100% or 0% unless it is exactly that.
std::string format_probability(double p) {
  if (p >= 1) return "100%";
  if (p <= 0) return "0%";
  if (p > 0.999) return ">99.9%";
  if (p < 0.001) return "<0.1%";
  const double percent = 100 * p;
  return percent >= 99.5 || percent < 0.5 ? format("%.1f%%", percent) : format("%.0f%%", percent);
}

struct Context {
  const AnalysisInput& input;
  const AnalysisResult& result;
  const std::vector<double>& decision_p;  ///< result.decision.p_values
  double decision_alpha;                  ///< the alpha the leading arm's p must beat

  // What to do about a significant result; the experiment's state may rule out concluding.
  std::string conclude(const std::string& qualifier) const {
    if (!input.conclude_blocked.empty()) return ". " + input.conclude_blocked + ".";
    return ". Safe to conclude" + qualifier + ".";
  }

  std::string keep_running() const {
    return input.conclude_blocked.empty() ? "Keep running: " : input.conclude_blocked + ": ";
  }

  std::string name(std::size_t variant) const {
    if (variant < input.variant_names.size() && !input.variant_names[variant].empty())
      return input.variant_names[variant];
    if (variant == 0) return "control";
    return result.comparisons.size() == 1 ? "treatment" : "variant " + std::to_string(variant);
  }

  bool improves(const Comparison& comparison) const {
    return (comparison.effect.estimate > 0) != input.inverse;
  }

  std::string interval(const Comparison& comparison) const {
    return format_effect(comparison.effect.estimate, input) + " (" +
           format("%g", 100 * (1 - input.alpha)) + "% CI " +
           format_effect(comparison.sequential.ci[0], input) + " to " +
           format_effect(comparison.sequential.ci[1], input) + ")";
  }

  std::string evidence(std::size_t index) const {
    std::string text = "always-valid " + format_p(decision_p[index]);
    if (result.comparisons.size() > 1) {
      text +=
          " (Holm-adjusted across " + std::to_string(result.comparisons.size()) + " treatments)";
    }
    return text;
  }

  std::string distance(std::size_t index) const {
    const Comparison& comparison = result.comparisons[index];
    std::string text = evidence(index) + " (needs < " + format("%g", input.alpha) + ")";
    const double multiple = sample_multiple_to_significance(comparison.effect, decision_alpha,
                                                            input.sequential_tuning_parameter);
    if (!std::isfinite(multiple)) return text + "; the arms are indistinguishable so far";
    const double more_units = (multiple - 1) * comparison.effect.total_n;
    return text + "; if this effect holds, about " +
           format(multiple < 10 ? "%.1f" : "%.0f", multiple) + "x the current sample (roughly " +
           format_units(more_units) + " more units in these two arms) would make it significant";
  }
};

std::string capitalised(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(text[0]));
  return text;
}

std::string srm_warning(const AnalysisInput& input, const AnalysisResult& result) {
  std::string observed;
  std::string configured;
  for (std::size_t i = 0; i < input.variants.size(); ++i) {
    observed += (i ? " / " : "") + format("%.0f", input.variants[i].n);
    configured += (i ? " / " : "") + format("%g%%", 100 * input.weights[i]);
  }
  return "sample ratio mismatch: do not trust these results. Observed units " + observed +
         " against a configured split of " + configured + " (SRM " + format_p(result.srm.p_value) +
         "); fix assignment or exposure logging before reading " + input.metric_name + ".";
}

std::string two_arm_verdict(const Context& context) {
  const Comparison& comparison = context.result.comparisons.front();
  const std::string& metric = context.input.metric_name;
  if (context.decision_p[0] < context.input.alpha) {
    const bool better = context.improves(comparison);
    return capitalised(context.name(comparison.variant)) +
           (better ? " beats " : " is worse than ") + context.name(0) + " on " + metric + ": " +
           context.interval(comparison) + ", " + context.evidence(0) +
           context.conclude(better ? "" : ": do not ship it");
  }
  return context.keep_running() + "no significant difference on " + metric + " yet. " +
         capitalised(context.name(comparison.variant)) + " vs " + context.name(0) + ": " +
         context.interval(comparison) + ", " + context.distance(0) + ". Chance to win " +
         format_probability(comparison.bayesian.chance_to_win) + ".";
}

std::string multi_arm_verdict(const Context& context) {
  const AnalysisResult& result = context.result;
  const std::string& metric = context.input.metric_name;
  std::string losers;
  for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
    const Comparison& comparison = result.comparisons[i];
    if (context.decision_p[i] < context.input.alpha && !context.improves(comparison)) {
      losers += " " + capitalised(context.name(comparison.variant)) +
                " is significantly worse: " + context.interval(comparison) + ", " +
                context.evidence(i) + "; safe to stop it.";
    }
  }
  const std::optional<std::size_t>& leader = result.decision.leader;
  if (!leader) {
    std::string text = capitalised(context.name(0)) + " is the best arm on " + metric +
                       " so far; no treatment beats it." + losers;
    if (result.decision.winner == 0u) return text + context.conclude(": keep " + context.name(0));
    return text + (losers.empty() ? " " + context.keep_running() + "not significant yet." : "");
  }
  const Comparison& comparison = result.comparisons[*leader];
  const std::string arm = context.name(comparison.variant);
  if (context.decision_p[*leader] < context.input.alpha) {
    return capitalised(arm) + " is the best arm on " + metric + ": " +
           context.interval(comparison) + " vs " + context.name(0) + ", " +
           context.evidence(*leader) + context.conclude("") + losers;
  }
  std::string text = context.keep_running() + "no arm is significantly better than " +
                     context.name(0) + " on " + metric + " yet. The leading arm is " + arm + ": " +
                     context.interval(comparison) + ", " + context.distance(*leader) + ".";
  if (result.bandit) {
    text += " Probability it is the best arm: " +
            format_probability(result.bandit->probability_best[comparison.variant]) + ".";
  }
  return text + losers;
}

}  // namespace

std::string recommend(const AnalysisInput& input, const AnalysisResult& result) {
  if (result.srm.mismatch) return srm_warning(input, result);
  if (result.comparisons.empty()) {
    return "Only the control arm exists for " + input.metric_name +
           ": nothing to compare yet. Add a treatment arm.";
  }
  const bool any_valid = std::any_of(result.comparisons.begin(), result.comparisons.end(),
                                     [](const Comparison& c) { return c.effect.valid; });
  if (!any_valid) {
    return "Not enough data on " + input.metric_name +
           " to compare arms yet (an arm has no units, or the metric does not vary): keep "
           "running.";
  }
  const bool several = result.comparisons.size() > 1;
  const Context context{input, result, result.decision.p_values,
                        input.alpha / static_cast<double>(result.comparisons.size())};
  return several ? multi_arm_verdict(context) : two_arm_verdict(context);
}

}  // namespace verdict::stats
