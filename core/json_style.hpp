#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace verdict {

/// The value with every object member name turned from snake_case into the camelCase the
/// server's results use (`p_value_holm` -> `pValueHolm`); names without `_` stay as they are.
boost::json::value camel_case_keys(const boost::json::value& value);

/// JSON text with numbers written as JavaScript (and so every JSON client) prints them: `0.1`,
/// `98.39`, `0.000001`, `1e-7`, rather than Boost.JSON's `1E-1`. Integers and strings as Boost.JSON
/// writes them.
std::string to_json_text(const boost::json::value& value);

/// Appends `value` to `out` as to_json_text writes it.
void append_json_text(std::string& out, const boost::json::value& value);

/// Appends `text` to `out` as a JSON string literal, escaped as Boost.JSON escapes it.
void append_json_string(std::string& out, std::string_view text);

}  // namespace verdict
