#pragma once

#include <boost/json.hpp>

#include <array>
#include <cstddef>
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
/// The same for an object, which would otherwise be copied into a value to bind to the above.
void append_json_text(std::string& out, const boost::json::object& object);

/// Appends `text` to `out` as a JSON string literal, escaped as Boost.JSON escapes it.
void append_json_string(std::string& out, std::string_view text);

/// The members `names` of `object`, found in one pass over it: element i is the value of
/// names[i], or null. Where a request reads several members of one object, this replaces a
/// search per name (Boost.JSON compares every key of a small object on each `if_contains`).
/// It finds what if_contains would, since a parsed object never holds a key twice.
template <std::size_t N>
std::array<const boost::json::value*, N> find_members(
    const boost::json::object& object, const std::array<std::string_view, N>& names) {
  std::array<const boost::json::value*, N> found{};
  for (const auto& member : object) {
    std::string_view key = member.key();
    for (std::size_t i = 0; i < N; ++i)
      if (key == names[i]) {
        found[i] = &member.value();
        break;
      }
  }
  return found;
}

}  // namespace verdict
