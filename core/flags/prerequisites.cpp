#include "core/flags/prerequisites.hpp"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/flags/flag_definition.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;

// Calls `visit(field, parent key)` for each parent condition of the flag's rules, in order.
void for_each_parent(const json::object& flag,
                     const std::function<void(const std::string&, const std::string&)>& visit) {
  const json::value* rules = flag.if_contains("targetingRules");
  if (!rules || !rules->is_array()) return;
  const json::array& list = rules->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::value* conditions =
        list[i].is_object() ? list[i].get_object().if_contains("parentConditions") : nullptr;
    if (!conditions || !conditions->is_array()) continue;
    const json::array& parents = conditions->get_array();
    for (std::size_t j = 0; j < parents.size(); ++j)
      if (parents[j].is_object())
        visit("targetingRules[" + std::to_string(i) + "].parentConditions[" + std::to_string(j) +
                  "].id",
              string_field(parents[j].get_object(), "id"));
  }
}

// Depth-first through the stored flags; each flag is read at most once per write.
class CycleFinder {
 public:
  CycleFinder(Engine& engine, std::string root) : engine_(engine), root_(std::move(root)) {}

  // The path from `key` back to the root (both included), or empty when there is none.
  std::vector<std::string> path_to_root(const std::string& key) {
    if (key == root_) return {key};
    if (!visited_.insert(key).second) return {};
    std::vector<std::string> parents;
    if (const auto flag = stored(key))
      for_each_parent(
          *flag, [&](const std::string&, const std::string& parent) { parents.push_back(parent); });
    for (const std::string& parent : parents) {
      std::vector<std::string> path = path_to_root(parent);
      if (path.empty()) continue;
      path.insert(path.begin(), key);
      return path;
    }
    return {};
  }

 private:
  std::optional<json::object> stored(const std::string& key) {
    const Noun& noun = engine_.schema().noun("FeatureFlag");
    Store& store = engine_.store();
    const auto id = store.find_unique(noun, *noun.field("key"), key);
    return id ? store.get(noun, *id) : std::nullopt;
  }

  Engine& engine_;
  std::string root_;
  std::set<std::string, std::less<>> visited_;
};

}  // namespace

void check_prerequisite_cycles(Engine& engine, const json::object& flag) {
  const std::string key = string_field(flag, "key");
  if (key.empty()) return;
  CycleFinder finder(engine, key);
  for_each_parent(flag, [&](const std::string& field, const std::string& parent) {
    const std::vector<std::string> path = finder.path_to_root(parent);
    if (path.empty()) return;
    std::string cycle = key;
    for (const std::string& step : path) cycle += " -> " + step;
    invalid(field, "prerequisite cycle " + cycle + "; a flag cannot depend on itself");
  });
}

}  // namespace verdict::flags
