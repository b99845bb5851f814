#include "server/prompts.hpp"

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "server/resources.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

struct PromptArgument {
  std::string_view name;
  std::string_view description;
  bool required;
};

struct PromptSpec {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  std::vector<PromptArgument> arguments;
};

const std::vector<PromptSpec>& specs() {
  static const std::vector<PromptSpec> kSpecs = {
      {"design-experiment",
       "Design an experiment",
       "turn a hypothesis into a Verdict experiment with variants and a primary metric",
       {{"hypothesis", "what you believe will happen, e.g. 'a shorter signup form raises signups'",
         true},
        {"metric", "the primary success metric, e.g. signup_rate", false}}},
      {"analyze-experiment",
       "Analyze an experiment",
       "review a running experiment and decide whether to conclude it",
       {{"experiment", "the experiment's id or slug", true}}},
  };
  return kSpecs;
}

const PromptSpec& spec(std::string_view name) {
  for (const auto& prompt : specs())
    if (prompt.name == name) return prompt;
  invalid("name", "unknown prompt '" + std::string(name.substr(0, 100)) +
                      "' (prompts: design-experiment, analyze-experiment)");
}

// Prompt arguments are strings by the MCP schema; anything else is a caller error.
std::string argument(const json::object& arguments, std::string_view name) {
  const auto* value = arguments.if_contains(name);
  return value ? std::string(value->get_string()) : std::string{};
}

void check(const PromptSpec& prompt, const json::object& arguments) {
  for (const auto& entry : arguments) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    std::string_view key = entry.key();
    const json::value& value = entry.value();
    auto it = std::find_if(prompt.arguments.begin(), prompt.arguments.end(),
                           [&](const PromptArgument& a) { return a.name == key; });
    if (it == prompt.arguments.end())
      invalid("arguments." + std::string(clip_utf8(key, 100)), "unknown argument");
    if (!value.is_string()) invalid("arguments." + std::string(key), "expected a string");
  }
  for (const auto& declared : prompt.arguments)
    if (declared.required && argument(arguments, declared.name).empty())
      invalid("arguments." + std::string(declared.name), "required");
}

json::object user_text(std::string text) {
  return {{"role", "user"}, {"content", {{"type", "text"}, {"text", std::move(text)}}}};
}

json::object design(const json::object& arguments) {
  std::string hypothesis = argument(arguments, "hypothesis");
  std::string metric = argument(arguments, "metric");
  // Every call is complete JSON, as the tool takes it: an agent that copies one and fills in the
  // "<...>" placeholders makes a call that succeeds (tests/server/prompts_test.cpp runs them).
  std::string metric_json = metric.empty() ? "\"<primary metric, e.g. signup_rate>\""
                                           : json::serialize(json::string(metric));
  const std::string id = "\"id\": \"<id returned by create>\"";
  std::string text =
      "Design a Verdict experiment to test this hypothesis:\n\n" + hypothesis +
      "\n\nUse the Verdict tools in this order, replacing each \"<...>\" with your value:\n"
      "1. Check that no similar experiment exists:\n"
      "   find {\"type\": \"Experiment\", \"filter\": {\"hypothesis\": {\"$regex\": \"<a key "
      "word of the hypothesis>\"}}}\n"
      "2. Create it with a short descriptive name:\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"create\", \"data\": {\"name\": \"<short "
      "name>\", \"hypothesis\": " +
      json::serialize(json::string(hypothesis)) +
      ", \"type\": \"ABTest\", \"primaryMetric\": " + metric_json +
      ", \"trafficAllocation\": 100}}\n"
      "3. Add the control and the treatment (weights add up to 100):\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"addVariant\", " +
      id +
      ", \"data\": {\"name\": \"Control\", \"weight\": 50}}\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"addVariant\", " +
      id +
      ", \"data\": {\"name\": \"<treatment name>\", \"weight\": 50}}\n"
      "4. Read verdict://schema/Experiment if a field is unclear, then summarize the design "
      "(metric, minimum detectable effect, expected duration) and ask before you start it:\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"start\", " +
      id + "}";
  return {{"description", "design an experiment for: " + hypothesis},
          {"messages", {user_text(std::move(text))}}};
}

json::object analyze(verdict::Engine& engine, const Caller& caller, const json::object& arguments) {
  json::object experiment;
  try {
    experiment = engine.get(caller, "Experiment", argument(arguments, "experiment"));
  } catch (const Error& error) {
    // A prompt argument that names nothing is a bad argument, not a missing resource.
    if (error.code() != ErrorCode::kNotFound) throw;
    invalid("arguments.experiment", "no Experiment with that id or slug");
  }
  std::string id(experiment.at("id").get_string());
  std::string quoted = json::serialize(json::string(id));
  std::string text =
      "Analyze the experiment " + id +
      " (attached). Run the statistics:\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"analyze\", \"id\": " +
      quoted +
      "}\n"
      "Check that it has run long enough and that traffic is split as designed (srm), compare the "
      "variants on the primary metric, and recommend one of: keep running, conclude "
      "with the winner the analysis suggests (conclude without data adopts it):\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"conclude\", \"id\": " +
      quoted +
      "}\n"
      "or stop it without a conclusion:\n"
      "   do {\"type\": \"Experiment\", \"verb\": \"stop\", \"id\": " +
      quoted +
      "}\n"
      "Explain the evidence.";
  json::object resource =
      read_resource(engine, caller, entity_uri("Experiment", id)).at(0).get_object();
  return {{"description", "analyze experiment " + id},
          {"messages",
           {user_text(std::move(text)),
            {{"role", "user"},
             {"content", {{"type", "resource"}, {"resource", std::move(resource)}}}}}}};
}

}  // namespace

json::array list_prompts() {
  json::array prompts;
  for (const auto& prompt : specs()) {
    json::array arguments;
    for (const auto& a : prompt.arguments)
      arguments.push_back(
          {{"name", a.name}, {"description", a.description}, {"required", a.required}});
    prompts.push_back({{"name", prompt.name},
                       {"title", prompt.title},
                       {"description", prompt.description},
                       {"arguments", std::move(arguments)}});
  }
  return prompts;
}

json::object get_prompt(verdict::Engine& engine, const Caller& caller, std::string_view name,
                        const json::object& arguments) {
  const PromptSpec& prompt = spec(name);
  check(prompt, arguments);
  return prompt.name == "design-experiment" ? design(arguments)
                                            : analyze(engine, caller, arguments);
}

}  // namespace verdict::server
