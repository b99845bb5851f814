#pragma once

#include <boost/json.hpp>

#include <string_view>

#include "core/engine.hpp"

namespace verdict::server {

/// MCP prompts: `design-experiment` (from a hypothesis to a created, ready-to-start experiment)
/// and `analyze-experiment` (from an experiment to a decision), in that order.
boost::json::array list_prompts();

/// The `prompts/get` result (description and messages). Throws kInvalidArgument for an unknown
/// prompt, a missing required argument, an unknown argument, a non-string value, or an
/// experiment that does not exist (in `caller`'s project).
boost::json::object get_prompt(verdict::Engine& engine, const Caller& caller, std::string_view name,
                               const boost::json::object& arguments);

}  // namespace verdict::server
