#include "server/read_classifier.hpp"

#include <boost/json.hpp>

namespace verdict::server {

bool is_read_only(const boost::json::value& message) {
  const auto* object = message.if_object();
  if (!object) return false;
  const auto* method = object->if_contains("method");
  if (!method || !method->is_string()) return false;
  const auto& name = method->get_string();
  if (name == "get" || name == "find" || name == "ping" || name == "resources/read") return true;
  if (name != "tools/call") return false;
  const auto* params = object->if_contains("params");
  const auto* tool =
      params && params->is_object() ? params->get_object().if_contains("name") : nullptr;
  return tool && tool->is_string() && (tool->get_string() == "get" || tool->get_string() == "find");
}

}  // namespace verdict::server
