#include "core/tracking/guardrails.hpp"

#include "core/error.hpp"
#include "core/stats/frequentist.hpp"

#include <boost/json.hpp>

#include <sstream>

namespace verdict::tracking {

namespace json = boost::json;

std::vector<GuardrailSpec> parse_guardrails(const std::string& text) {
  std::vector<GuardrailSpec> guardrails;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto begin = item.find_first_not_of(' ');
    if (begin == std::string::npos) continue;
    std::string name = item.substr(begin, item.find_last_not_of(' ') - begin + 1);
    GuardrailSpec spec;
    if (name.front() == '-') {
      spec.lower_is_better = true;
      name.erase(0, 1);
    }
    if (name.empty()) invalid("guardrails", "'-' needs a metric name after it, e.g. -errors");
    spec.metric = std::move(name);
    guardrails.push_back(std::move(spec));
  }
  return guardrails;
}

json::object guardrail_result(const GuardrailSpec& guardrail, const stats::AnalysisInput& input,
                              const stats::AnalysisResult& result,
                              const std::vector<std::string>& keys) {
  json::array variants;
  bool harmed = false;
  for (const auto& comparison : result.comparisons) {
    const stats::EffectEstimate& effect = comparison.effect;
    const double half_width = stats::sequential_one_sided_half_width(
        effect, input.alpha, input.sequential_tuning_parameter);
    const double bound =
        guardrail.lower_is_better ? effect.estimate - half_width : effect.estimate + half_width;
    const bool hurt = effect.valid && (guardrail.lower_is_better ? bound > 0 : bound < 0);
    harmed = harmed || hurt;
    variants.push_back(json::object{{"variant", keys.at(comparison.variant)},
                                    {"lift", effect.estimate},
                                    {"bound", effect.valid ? json::value(bound) : nullptr},
                                    {"harmed", hurt}});
  }
  return json::object{{"metric", guardrail.metric},
                      {"lowerIsBetter", guardrail.lower_is_better},
                      {"harmed", harmed},
                      {"variants", std::move(variants)}};
}

}  // namespace verdict::tracking
