#pragma once

#include <boost/json.hpp>

#include <string_view>

#include "core/engine.hpp"

namespace verdict::server {

/// MCP resources: `verdict://schema/{Noun}` (a noun's fields, verbs and state machine) and
/// `verdict://{Noun}/{id}` (an entity by id or slug), both `application/json`.

/// The concrete resources: one schema resource per noun, in schema order.
boost::json::array list_resources(const Schema& schema);

/// The URI templates of both kinds.
boost::json::array list_resource_templates();

/// The `contents` of `uri`. Throws kNotFound for a URI that names nothing, kInvalidArgument
/// (field `uri`) for one that is not a Verdict URI. Entities are read in `caller`'s project.
boost::json::array read_resource(verdict::Engine& engine, const Caller& caller,
                                 std::string_view uri);

/// The resource URI of an entity.
std::string entity_uri(std::string_view noun, std::string_view id);

}  // namespace verdict::server
