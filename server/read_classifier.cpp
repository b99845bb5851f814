#include "server/read_classifier.hpp"

#include <boost/json.hpp>

namespace verdict::server {

namespace {

enum class Access { kEngine, kLookup, kScan };

Access access_of(const boost::json::value& message) {
  const auto* object = message.if_object();
  if (!object) return Access::kEngine;
  const auto* method = object->if_contains("method");
  if (!method || !method->is_string()) return Access::kEngine;
  const auto& name = method->get_string();
  if (name == "get" || name == "ping" || name == "resources/read") return Access::kLookup;
  if (name == "find") return Access::kScan;
  if (name != "tools/call") return Access::kEngine;
  const auto* params = object->if_contains("params");
  const auto* tool =
      params && params->is_object() ? params->get_object().if_contains("name") : nullptr;
  if (!tool || !tool->is_string()) return Access::kEngine;
  if (tool->get_string() == "get") return Access::kLookup;
  return tool->get_string() == "find" ? Access::kScan : Access::kEngine;
}

}  // namespace

bool is_read_only(const boost::json::value& message) {
  return access_of(message) != Access::kEngine;
}

bool is_lookup(const boost::json::value& message) {
  return access_of(message) == Access::kLookup;
}

}  // namespace verdict::server
