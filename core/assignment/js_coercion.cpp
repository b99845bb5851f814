#include "core/assignment/js_coercion.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/assignment/utf16.hpp"

namespace verdict::assignment::js {
namespace {

namespace json = boost::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Integers up to 2^53 are exact doubles, so they print as JavaScript prints them.
constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

double number_of(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64:
      return static_cast<double>(value.get_int64());
    case json::kind::uint64:
      return static_cast<double>(value.get_uint64());
    default:
      return value.get_double();
  }
}

// The digit's value in bases up to 16; 16 for anything else.
int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;
}

double parse_radix_integer(std::string_view digits, int radix) {
  if (digits.empty()) return kNaN;
  double result = 0;
  for (char c : digits) {
    const int digit = digit_value(c);
    if (digit >= radix) return kNaN;
    result = result * radix + digit;
  }
  return result;
}

bool is_stringlike(const json::value& value) {
  return value.is_string() || value.is_array() || value.is_object();
}

}  // namespace

std::string number_to_string(double number) {
  if (std::isnan(number)) return "NaN";
  if (number == 0) return "0";  // also -0
  if (std::isinf(number)) return number < 0 ? "-Infinity" : "Infinity";

  std::string out = number < 0 ? "-" : "";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(number),
                                    std::chars_format::scientific);
  const std::string_view scientific(buffer, static_cast<std::size_t>(result.ptr - buffer));
  const std::size_t e = scientific.find('e');
  std::string digits(1, scientific[0]);
  if (e > 1) digits.append(scientific.substr(2, e - 2));
  const int exponent = std::atoi(std::string(scientific.substr(e + 1)).c_str());

  // ECMAScript Number::toString: k significant digits, decimal point after n of them.
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += n - 1 >= 0 ? "e+" : "e-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string to_string(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case json::kind::string:
      return std::string(value.get_string());
    case json::kind::int64:
      if (value.get_int64() >= -kMaxExactInteger && value.get_int64() <= kMaxExactInteger) {
        return std::to_string(value.get_int64());
      }
      return number_to_string(number_of(value));
    case json::kind::uint64:
    case json::kind::double_:
      return number_to_string(number_of(value));
    case json::kind::array: {
      std::string joined;
      bool first = true;
      for (const json::value& element : value.get_array()) {
        if (!first) joined += ',';
        first = false;
        if (!element.is_null()) joined += to_string(element);
      }
      return joined;
    }
    case json::kind::object:
      break;
  }
  return "[object Object]";
}

double string_to_number(std::string_view text) {
  while (!text.empty() && is_ascii_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return 0;

  if (text.size() > 2 && text[0] == '0') {
    const char prefix = static_cast<char>(text[1] | 0x20);
    if (prefix == 'x') return parse_radix_integer(text.substr(2), 16);
    if (prefix == 'o') return parse_radix_integer(text.substr(2), 8);
    if (prefix == 'b') return parse_radix_integer(text.substr(2), 2);
  }

  double sign = 1;
  if (text.front() == '+' || text.front() == '-') {
    sign = text.front() == '-' ? -1 : 1;
    text.remove_prefix(1);
  }
  if (text == "Infinity") return sign * std::numeric_limits<double>::infinity();
  // from_chars also accepts "inf", "nan" and a second sign, none of which JavaScript does.
  if (text.empty() || !(text.front() == '.' || (text.front() >= '0' && text.front() <= '9'))) {
    return kNaN;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return kNaN;
    }
  }
  double result = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (end != text.data() + text.size()) return kNaN;
  // Out of range: JavaScript rounds to Infinity or 0 rather than failing.
  if (error == std::errc::result_out_of_range) {
    return sign * std::strtod(std::string(text).c_str(), nullptr);
  }
  return sign * result;
}

double to_number(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return 0;
    case json::kind::bool_:
      return value.get_bool() ? 1 : 0;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return number_of(value);
    case json::kind::string:
      return string_to_number(value.get_string());
    case json::kind::array:
    case json::kind::object:
      break;
  }
  return string_to_number(to_string(value));
}

double parse_int(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_ascii_space(text[i])) ++i;
  double sign = 1;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) sign = text[i++] == '-' ? -1 : 1;
  int radix = 10;
  if (text.size() - i >= 2 && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    radix = 16;
    i += 2;
  }
  std::size_t end = i;
  while (end < text.size() && digit_value(text[end]) < radix) ++end;
  return sign * parse_radix_integer(text.substr(i, end - i), radix);
}

bool truthy(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return false;
    case json::kind::bool_:
      return value.get_bool();
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      const double number = number_of(value);
      return number != 0 && !std::isnan(number);
    }
    case json::kind::string:
      return !value.get_string().empty();
    case json::kind::array:
    case json::kind::object:
      break;
  }
  return true;
}

bool strict_equals(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return number_of(a) == number_of(b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::string:
      return a.get_string() == b.get_string();
    default:
      return false;
  }
}

std::partial_ordering compare(const json::value& a, const json::value& b) {
  if (is_stringlike(a) && is_stringlike(b)) {
    if (a.is_string() && b.is_string()) {
      return compare_utf16(a.get_string(), b.get_string()) <=> 0;
    }
    return compare_utf16(to_string(a), to_string(b)) <=> 0;
  }
  return to_number(a) <=> to_number(b);
}

}  // namespace verdict::assignment::js
