#pragma once

#include <boost/json.hpp>

#include <string>

namespace verdict {

/// The value with every object member name turned from snake_case into the camelCase the
/// server's results use (`p_value_holm` -> `pValueHolm`); names without `_` stay as they are.
boost::json::value camel_case_keys(const boost::json::value& value);

/// JSON text with numbers written as JavaScript (and so every JSON client) prints them: `0.1`,
/// `98.39`, `0.000001`, `1e-7`, rather than Boost.JSON's `1E-1`. Integers and strings as Boost.JSON
/// writes them.
std::string to_json_text(const boost::json::value& value);

}  // namespace verdict
