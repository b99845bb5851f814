// libFuzzer target for the two filter languages that see untrusted JSON:
// - compile_filter + parse_sort/order_by + Store::find (MongoDB-style filters of `find`), on an
//   in-memory store with a few rows, so the SQL they compile also runs;
// - eval_condition (GrowthBook targeting conditions of `assign`) and padded_version_string.
//
// Input: the first byte picks the noun, the rest is JSON. An object with "filter", "sort",
// "attributes", "condition" or "savedGroups" keys uses them; any other object is used as both the
// filter and the condition. Only verdict::Error may escape the SQL side (eval_condition is total);
// anything else is a crash.

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/assignment/condition.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/filter.hpp"

namespace {

namespace json = boost::json;

verdict::Engine& engine() {
  static verdict::Engine* instance = [] {
    auto* created = new verdict::Engine(":memory:");
    auto create = [&](std::string noun, json::object data) {
      created->execute({.noun = std::move(noun), .verb = "create", .data = std::move(data)});
    };
    create("Organization", {{"name", "Acme"}, {"domain", "acme.example"}});
    create("Contact", {{"name", "Ada"}, {"email", "ada@acme.example"}});
    create("Experiment",
           {{"name", "Pricing"},
            {"trafficAllocation", 50},
            {"tags", "pricing,web"},
            {"variants", json::array{{{"key", "a"}, {"name", "A"}, {"weight", 50}},
                                     {{"key", "b"}, {"name", "B"}, {"weight", 50}}}}});
    create("Experiment", {{"name", "Checkout"}, {"confidence", 97.5}, {"sampleSize", 1200}});
    create("FeatureFlag", {{"key", "dark-mode"}, {"name", "Dark mode"}, {"rolloutPercentage", 10}});
    create("Metric", {{"name", "signup"}, {"value", 3.5}});
    return created;
  }();
  return *instance;
}

const json::object& object_or_empty(const json::object& object, std::string_view key) {
  static const json::object kEmpty;
  const auto* value = object.if_contains(key);
  return value && value->is_object() ? value->get_object() : kEmpty;
}

const json::object& default_attributes() {
  static const json::object attributes = json::parse(R"({
    "id": "user-42", "country": "NZ", "age": 37, "premium": true, "score": 0.5,
    "tags": ["beta", "mobile"], "version": "1.2.3-rc.1", "nested": {"a": {"b": [1, 2, 3]}},
    "empty": "", "zero": 0, "nothing": null})")
                                             .as_object();
  return attributes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto& store_engine = engine();
  const auto& nouns = store_engine.schema().nouns();
  const verdict::Noun& noun = *nouns[data[0] % nouns.size()];

  json::parse_options options;
  options.max_depth = 64;  // as the dispatcher parses wire data
  boost::system::error_code ec;
  json::value value =
      json::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), ec,
                  json::storage_ptr(), options);
  if (ec) return 0;

  if (value.is_string()) {
    (void)verdict::assignment::padded_version_string(value);
    return 0;
  }
  if (!value.is_object()) return 0;
  const json::object& input = value.get_object();
  bool structured = input.contains("filter") || input.contains("sort") ||
                    input.contains("attributes") || input.contains("condition") ||
                    input.contains("savedGroups");

  const json::object& filter = structured ? object_or_empty(input, "filter") : input;
  const json::object& sort = object_or_empty(input, "sort");
  try {
    (void)verdict::compile_filter(noun, filter);
    (void)verdict::order_by(verdict::parse_sort(noun, sort));
  } catch (const verdict::Error&) {
  }
  try {
    verdict::FindQuery query{.filter = filter, .sort = sort, .limit = 5};
    auto found = store_engine.find(noun.name, query);
    if (!found.next_cursor.empty()) {
      query.cursor = found.next_cursor;
      (void)store_engine.find(noun.name, query);
    }
  } catch (const verdict::Error&) {
  }

  const json::object& condition = structured ? object_or_empty(input, "condition") : input;
  const json::object& attributes =
      input.contains("attributes") ? object_or_empty(input, "attributes") : default_attributes();
  (void)verdict::assignment::eval_condition(attributes, condition,
                                            object_or_empty(input, "savedGroups"));
  if (const auto* version = input.if_contains("version"))
    (void)verdict::assignment::padded_version_string(*version);
  return 0;
}
