#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "core/schema.hpp"

namespace verdict {

/// A WHERE clause with `?` placeholders and the values to bind, in order.
struct SqlCondition {
  std::string sql;
  std::vector<boost::json::value> params;
};

/// Compiles a MongoDB-style filter over a noun's declared fields into SQL. Supports equality,
/// `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex`, and `$and`/`$or`/`$nor` lists. Unknown
/// fields and operators, values of the wrong type and oversized lists are kInvalidArgument
/// errors naming the field. Every value is a bound parameter; field names come from the schema.
SqlCondition compile_filter(const Noun& noun, const boost::json::object& filter);

/// Compiles a sort spec (`{"startAt": "desc"}`) into an ORDER BY list ending with the id, so the
/// order is total and pages are stable.
std::string compile_sort(const Noun& noun, const boost::json::object& sort);

/// Quotes an identifier that the schema has already vetted.
std::string quote_identifier(std::string_view name);

}  // namespace verdict
