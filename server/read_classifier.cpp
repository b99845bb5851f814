#include "server/read_classifier.hpp"

#include <boost/json.hpp>

#include <array>
#include <string_view>

#include "core/json_style.hpp"

namespace verdict::server {

Access access_of(const boost::json::value& message) {
  using namespace std::string_view_literals;
  const auto* object = message.if_object();
  if (!object) return Access::kEngine;
  auto [method, params] = find_members(*object, std::array{"method"sv, "params"sv});
  if (!method || !method->is_string()) return Access::kEngine;
  std::string_view name = method->get_string();
  if (name == "get" || name == "ping" || name == "resources/read") return Access::kLookup;
  if (name == "find") return Access::kScan;
  if (name != "tools/call") return Access::kEngine;
  const auto* tool =
      params && params->is_object() ? params->get_object().if_contains("name") : nullptr;
  if (!tool || !tool->is_string()) return Access::kEngine;
  std::string_view tool_name = tool->get_string();
  if (tool_name == "get") return Access::kLookup;
  return tool_name == "find" ? Access::kScan : Access::kEngine;
}

}  // namespace verdict::server
