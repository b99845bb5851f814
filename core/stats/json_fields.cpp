#include "core/stats/json_fields.hpp"

#include "core/error.hpp"

#include <cmath>
#include <cstdint>

namespace verdict::stats {

namespace json = boost::json;

double to_double(const json::value& value, const std::string& field) {
  if (!value.is_number()) invalid(field, "must be a number");
  return value.to_number<double>();
}

const json::value* find(const json::object& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->value().is_null() ? nullptr : &it->value();
}

double number_or(const json::object& object, const char* key, const std::string& field,
                 double fallback) {
  const json::value* value = find(object, key);
  return value ? to_double(*value, field) : fallback;
}

bool bool_or(const json::object& object, const char* key, const std::string& field, bool fallback) {
  const json::value* value = find(object, key);
  if (!value) return fallback;
  if (!value->is_bool()) invalid(field, "must be true or false");
  return value->get_bool();
}

std::string string_or(const json::object& object, const char* key, const std::string& field,
                      std::string fallback) {
  const json::value* value = find(object, key);
  if (!value) return fallback;
  if (!value->is_string()) invalid(field, "must be a string");
  return std::string(value->get_string());
}

const json::object& as_object(const json::value& value, const std::string& field) {
  if (!value.is_object()) invalid(field, "must be an object");
  return value.get_object();
}

json::value json_count(double value) {
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (value == std::floor(value) && std::abs(value) < kMaxExactInteger)
    return static_cast<std::int64_t>(value);
  return value;
}

}  // namespace verdict::stats
