#pragma once

#include <compare>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

/// JavaScript's conversions and comparisons over JSON values. GrowthBook's reference SDK is
/// JavaScript and its targeting rules lean on them (`value + ""`, `value * 1`, `<` between a
/// string and a number), so matching every SDK means reproducing them. A missing attribute
/// is passed as JSON null, as GrowthBook's getPath returns null.
namespace verdict::assignment::js {

/// `String(number)`: the shortest round-trip digits laid out as ECMAScript Number::toString.
std::string number_to_string(double number);

/// `String(value)`: arrays join their elements with ",", objects become "[object Object]".
std::string to_string(const boost::json::value& value);

/// `Number(text)`: decimal, hex/octal/binary literals and Infinity; anything else is NaN.
/// Only ASCII whitespace is trimmed.
double string_to_number(std::string_view text);

/// `parseInt(text)`: the leading decimal (or `0x` hexadecimal) digits after optional whitespace
/// and sign, ignoring what follows them; NaN when there are none. Only ASCII whitespace is
/// skipped.
double parse_int(std::string_view text);

/// `Number(value)`: null is 0, arrays and objects go through their string form.
double to_number(const boost::json::value& value);

/// `!!value`.
bool truthy(const boost::json::value& value);

/// `a === b`. Arrays and objects are never equal: in JavaScript two parsed JSON values are
/// distinct references.
bool strict_equals(const boost::json::value& a, const boost::json::value& b);

/// The abstract relational comparison behind `<`, `<=`, `>`, `>=`: strings (after
/// converting arrays and objects to strings) compare by UTF-16 code units, anything else
/// numerically; NaN makes the result unordered, so every comparison is false.
std::partial_ordering compare(const boost::json::value& a, const boost::json::value& b);

}  // namespace verdict::assignment::js
