#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "core/schema.hpp"
#include "core/storage/connection.hpp"

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
/// `$regex` is ECMAScript on SQLite (Boost.Regex) and a POSIX regular expression on PostgreSQL
/// (its `~`); the two agree on the usual patterns (classes, anchors, alternation, repetition).
SqlCondition compile_filter(const Noun& noun, const boost::json::object& filter,
                            storage::Backend backend = storage::Backend::kSqlite);

/// One column of an ORDER BY.
struct SortKey {
  std::string field;
  bool descending = false;
};

/// Parses a sort spec (`{"startAt": "desc"}`) into its keys, ending with the id (in the last
/// key's direction, ascending when there is none) so the order is total and pages are stable.
/// Unknown fields and directions are kInvalidArgument.
std::vector<SortKey> parse_sort(const Noun& noun, const boost::json::object& sort);

/// The ORDER BY list of `keys`, with NULLs first in ascending order on either engine (SQLite's
/// own order, which keyset cursors rely on).
std::string order_by(const std::vector<SortKey>& keys,
                     storage::Backend backend = storage::Backend::kSqlite);

/// Quotes an identifier that the schema has already vetted.
std::string quote_identifier(std::string_view name);

}  // namespace verdict
