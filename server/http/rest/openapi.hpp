#pragma once

#include <boost/json.hpp>

namespace verdict::server::http::rest {

/// The OpenAPI 3.1 document of the REST API, generated from the schema as the engine describes
/// it (`{nouns: [...]}`, the JSON-RPC `schema` method): every noun's paths, its fields as JSON
/// Schema, every verb, and the problem+json answer of every error status. Pure.
boost::json::object openapi_document(const boost::json::object& schema);

}  // namespace verdict::server::http::rest
