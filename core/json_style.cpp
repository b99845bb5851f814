#include "core/json_style.hpp"

#include <charconv>
#include <cmath>

namespace verdict {

namespace json = boost::json;

namespace {

std::string camel_case(std::string_view name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_' && !out.empty()) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

// Shortest round-trip digits, positioned as ECMAScript's Number::toString does: plain notation
// for 1e-6 <= |x| < 1e21, exponent notation (`1.5e-8`, `1e+21`) outside.
void append_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  if (x == 0) {
    out += "0";
    return;
  }
  char buffer[64];
  double magnitude = std::fabs(x);
  auto format = magnitude >= 1e-6 && magnitude < 1e21 ? std::chars_format::fixed
                                                      : std::chars_format::scientific;
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x, format);
  std::string text(buffer, ec == std::errc{} ? end : buffer);
  if (format == std::chars_format::scientific) {
    // to_chars writes 1.5e-08; JavaScript writes 1.5e-8 and 1e+21.
    auto e = text.find('e');
    std::string mantissa = text.substr(0, e);
    char sign = text[e + 1];
    std::string digits = text.substr(e + 2);
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    text = mantissa + "e" + (sign == '-' ? "-" : "+") + digits;
  }
  out += text;
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

}  // namespace

void append_json_text(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      append_double(out, value.get_double());
      break;
    case json::kind::object:
      append_json_text(out, value.get_object());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, item);
      }
      out += ']';
      break;
    }
    case json::kind::string:
      append_json_string(out, value.get_string());
      break;
    case json::kind::int64:
      append_integer(out, value.get_int64());
      break;
    case json::kind::uint64:
      append_integer(out, value.get_uint64());
      break;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      break;
    case json::kind::null:
      out += "null";
  }
}

void append_json_text(std::string& out, const json::object& object) {
  out += '{';
  bool first = true;
  for (const auto& [key, member] : object) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    append_json_text(out, member);
  }
  out += '}';
}

void append_json_string(std::string& out, std::string_view text) {
  // Quotes and backslashes (every serialized entity is full of them) are escaped here in one
  // pass, without a copy; control characters have several escapes, which Boost.JSON picks.
  std::size_t rewind = out.size();
  out += '"';
  std::size_t clean = 0;  // text before this index is in `out`
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20) {
      out.resize(rewind);
      out += json::serialize(json::string(text));
      return;
    }
    if (c == '"' || c == '\\') {
      out.append(text.data() + clean, i - clean);
      out += '\\';
      clean = i;
    }
  }
  out.append(text.data() + clean, text.size() - clean);
  out += '"';
}

json::value camel_case_keys(const json::value& value) {
  if (value.is_array()) {
    json::array out;
    for (const auto& item : value.get_array()) out.push_back(camel_case_keys(item));
    return out;
  }
  if (!value.is_object()) return value;
  json::object out;
  for (const auto& [key, member] : value.get_object())
    out[camel_case(key)] = camel_case_keys(member);
  return out;
}

std::string to_json_text(const json::value& value) {
  std::string out;
  append_json_text(out, value);
  return out;
}

}  // namespace verdict
