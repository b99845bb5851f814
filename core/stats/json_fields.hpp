#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace verdict::stats {

/// Typed reads of untrusted JSON fields shared by the statistics inputs. Each throws
/// verdict::Error (kInvalidArgument) naming `field` when the value has the wrong type; a
/// missing or null key gives the fallback.
double to_double(const boost::json::value& value, const std::string& field);
const boost::json::value* find(const boost::json::object& object, const char* key);
double number_or(const boost::json::object& object, const char* key, const std::string& field,
                 double fallback);
bool bool_or(const boost::json::object& object, const char* key, const std::string& field,
             bool fallback);
std::string string_or(const boost::json::object& object, const char* key, const std::string& field,
                      std::string fallback);
const boost::json::object& as_object(const boost::json::value& value, const std::string& field);

/// A count as a JSON integer (1E4 reads badly) when it is a whole number below 2^53.
boost::json::value json_count(double value);

}  // namespace verdict::stats
