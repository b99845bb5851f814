#pragma once

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace verdict::server {

/// The fixture tools, resources and prompts the official MCP conformance suite
/// (@modelcontextprotocol/conformance) calls: `test_simple_text`, `test://static-text`,
/// `test_simple_prompt`, ... with the contents its scenarios check. Registered beside find/get/do
/// only under `verdict serve --conformance`; never part of normal serving. Stateless and
/// thread-safe.
class ConformanceFixtures {
 public:
  /// What a fixture tool may do while it runs.
  struct ToolContext {
    const boost::json::value* progress_token = nullptr;  ///< `_meta.progressToken`, if sent
    std::function<void(boost::json::object params)> progress;
    std::function<void(std::string_view level, boost::json::value data)> log;
    bool log_level_set = false;  ///< the client asked for log messages
  };

  boost::json::array tools() const;
  bool has_tool(std::string_view name) const;
  /// The client capability the tool needs (MissingRequiredClientCapability when absent).
  std::optional<std::string> required_capability(std::string_view name) const;
  /// A tool result (`content`, maybe `isError`).
  boost::json::object call_tool(std::string_view name, const ToolContext& context) const;

  boost::json::array resources() const;
  boost::json::array resource_templates() const;
  /// The `contents` of a fixture resource, or nothing for a URI that is not one.
  std::optional<boost::json::array> read_resource(std::string_view uri) const;

  boost::json::array prompts() const;
  bool has_prompt(std::string_view name) const;
  boost::json::object get_prompt(std::string_view name, const boost::json::object& arguments) const;
};

}  // namespace verdict::server
