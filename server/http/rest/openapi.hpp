#pragma once

#include <boost/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace verdict::server::http::rest {

/// The building blocks of the document, for the generators of other APIs' paths (the admin API).
namespace oas {
/// `{"$ref": "#/components/{kind}/{name}"}`.
boost::json::object ref(std::string_view kind, std::string_view name);
/// A 200-style response with an `application/json` body of `schema` (and an ETag when `etag`).
boost::json::object ok(std::string description, boost::json::object schema, bool etag = false);
/// `responses` plus the problem+json answers every operation has (400, 401, 403, 404, 405, 500)
/// and those of `statuses`.
boost::json::object with_errors(boost::json::object responses, std::initializer_list<int> statuses);
boost::json::object operation(std::string id, std::string summary, std::string tag,
                              boost::json::object responses);
/// A JSON request body of `schema`.
boost::json::object body(boost::json::object schema, bool required);
}  // namespace oas

/// The OpenAPI 3.1 document of the REST API, generated from the schema as the engine describes
/// it (`{nouns: [...]}`, the JSON-RPC `schema` method): every noun's paths, its fields as JSON
/// Schema, every verb, and the problem+json answer of every error status. Pure.
boost::json::object openapi_document(const boost::json::object& schema);

}  // namespace verdict::server::http::rest
