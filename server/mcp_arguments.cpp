#include "server/mcp_arguments.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

bool has_type(const json::value& value, std::string_view type) {
  if (type == "string") return value.is_string();
  if (type == "integer")
    return value.is_int64() || value.is_uint64() ||
           (value.is_double() && std::isfinite(value.get_double()) &&
            std::floor(value.get_double()) == value.get_double());
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_bool();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return true;
}

std::string article(std::string_view type) {
  return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") +
         std::string(type);
}

std::string join(const json::array& values) {
  std::string out;
  for (const auto& value : values)
    out += (out.empty() ? "" : ", ") +
           (value.is_string() ? std::string(value.get_string()) : json::serialize(value));
  return out;
}

void check_value(const json::object& schema, const json::value& value, const std::string& where) {
  if (const auto* type = schema.if_contains("type");
      type && type->is_string() && !has_type(value, type->get_string()))
    invalid(where, "expected " + article(type->get_string()));
  if (const auto* allowed = schema.if_contains("enum"); allowed && allowed->is_array()) {
    const auto& values = allowed->get_array();
    if (std::find(values.begin(), values.end(), value) == values.end()) {
      std::string shown = value.is_string()
                              ? std::string(value.get_string().subview().substr(0, 100))
                              : json::serialize(value).substr(0, 100);
      invalid(where, "unknown value '" + shown + "' (one of: " + join(values) + ")");
    }
  }
  const auto* minimum = schema.if_contains("minimum");
  const auto* maximum = schema.if_contains("maximum");
  if (value.is_number() && ((minimum && value.to_number<double>() < minimum->to_number<double>()) ||
                            (maximum && value.to_number<double>() > maximum->to_number<double>())))
    invalid(where, "must be between " + json::serialize(minimum ? *minimum : json::value("-inf")) +
                       " and " + json::serialize(maximum ? *maximum : json::value("inf")));
  if (const auto* items = schema.if_contains("items");
      items && items->is_object() && value.is_array())
    for (std::size_t i = 0; i < value.get_array().size(); ++i)
      check_value(items->get_object(), value.get_array()[i], where + "[" + std::to_string(i) + "]");
}

}  // namespace

void check_arguments(const json::object& input_schema, const json::object& arguments) {
  static const json::object kNoProperties;
  const auto* properties = input_schema.if_contains("properties");
  const json::object& declared = properties ? properties->get_object() : kNoProperties;
  for (const auto& [name, value] : arguments) {
    const auto* property = declared.if_contains(name);
    if (!property) {
      std::string allowed;
      for (const auto& entry : declared)
        allowed += (allowed.empty() ? "" : ", ") + std::string(entry.key());
      invalid(std::string(clip_utf8(name, 100)), "unknown argument (allowed: " + allowed + ")");
    }
    check_value(property->get_object(), value, std::string(name));
  }
  if (const auto* required = input_schema.if_contains("required"))
    for (const auto& name : required->get_array())
      if (!arguments.contains(name.get_string()))
        invalid(std::string(name.get_string()), "required");
}

}  // namespace verdict::server
