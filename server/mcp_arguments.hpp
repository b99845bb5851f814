#pragma once

#include <boost/json.hpp>

namespace verdict::server {

/// Checks tool arguments against the subset of JSON Schema that Verdict's own tool input schemas
/// use: `type` (string, integer, number, boolean, object, array), `enum`, `minimum`/`maximum`,
/// `items`, `required` and `additionalProperties: false` at the root. Throws kInvalidArgument
/// whose field and message name the first offending argument, so an agent can correct the call.
void check_arguments(const boost::json::object& input_schema, const boost::json::object& arguments);

}  // namespace verdict::server
