#pragma once

#include <boost/json.hpp>

#include <functional>
#include <string_view>

#include "core/schema.hpp"

namespace verdict {

/// Fields every entity carries besides its declared ones; only Verdict writes them.
bool is_meta_field(std::string_view name);

/// Answers whether an entity id exists; relation fields are checked with it.
using ExistsFn = std::function<bool(const Noun& target, std::string_view id)>;

/// Checks a whole entity against its noun: unknown fields, types, required fields, enum values,
/// numeric ranges, relations and the noun's own validators. Throws kInvalidArgument naming the
/// first offending field.
void validate_entity(const Schema& schema, const Noun& noun, const boost::json::object& entity,
                     const ExistsFn& exists);

/// Checks one value against a field declaration (used for verb parameters too).
void validate_value(const Field& field, const boost::json::value& value, std::string_view where);

}  // namespace verdict
