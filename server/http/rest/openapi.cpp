#include "server/http/rest/openapi.hpp"

#include <string>

#include "server/http/rest/admin_api.hpp"
#include "server/http/rest/rest_schema.hpp"
#include "verdict/version.hpp"

namespace verdict::server::http::rest {

namespace json = boost::json;

namespace {

json::object json_content(json::object schema, std::string_view media = "application/json") {
  return {{std::string(media), {{"schema", std::move(schema)}}}};
}

}  // namespace

namespace oas {

json::object ref(std::string_view kind, std::string_view name) {
  return {{"$ref", "#/components/" + std::string(kind) + "/" + std::string(name)}};
}

json::object ok(std::string description, json::object schema, bool etag) {
  json::object response{{"description", std::move(description)},
                        {"content", json_content(std::move(schema))}};
  if (etag) response["headers"] = {{"ETag", ref("headers", "ETag")}};
  return response;
}

json::object with_errors(json::object responses, std::initializer_list<int> statuses) {
  for (int status : {400, 401, 403, 404, 405, 500})
    responses[std::to_string(status)] = ref("responses", std::to_string(status));
  for (int status : statuses)
    responses[std::to_string(status)] = ref("responses", std::to_string(status));
  return responses;
}

json::object operation(std::string id, std::string summary, std::string tag,
                       json::object responses) {
  return {{"operationId", std::move(id)},
          {"summary", std::move(summary)},
          {"tags", {std::move(tag)}},
          {"responses", std::move(responses)}};
}

json::object body(json::object schema, bool required) {
  return {{"required", required}, {"content", json_content(std::move(schema))}};
}

}  // namespace oas

namespace {

using oas::body;
using oas::ok;
using oas::operation;
using oas::ref;
using oas::with_errors;

// A declared field as JSON Schema. Fields never set read back as absent or null.
json::object field_schema(const json::object& spec) {
  std::string_view type = spec.at("type").as_string();
  json::object out;
  if (type == "string" || type == "relation") {
    out["type"] = json::array{"string", "null"};
  } else if (type == "datetime") {
    out["type"] = json::array{"string", "null"};
    out["format"] = "date-time";
  } else if (type == "number") {
    out["type"] = json::array{"number", "null"};
    if (const json::value* min = spec.if_contains("min")) out["minimum"] = *min;
    if (const json::value* max = spec.if_contains("max")) out["maximum"] = *max;
  } else if (type == "boolean") {
    out["type"] = json::array{"boolean", "null"};
  } else if (type == "enum") {
    json::array values = spec.at("values").as_array();
    values.push_back(nullptr);
    out["enum"] = std::move(values);
  }
  std::string description =
      spec.contains("description") ? std::string(spec.at("description").as_string()) : "";
  if (type == "relation")
    description += (description.empty() ? "" : "; ") + std::string("id of a ") +
                   std::string(spec.at("target").as_string());
  if (const json::value* writer = spec.if_contains("writtenBy")) {
    out["readOnly"] = true;
    description += (description.empty() ? "" : "; ") + std::string("written by ") +
                   std::string(writer->as_string());
  }
  if (!description.empty()) out["description"] = description;
  return out;
}

void noun_schemas(const json::object& noun, json::object& schemas) {
  const std::string name(noun.at("name").as_string());
  json::object properties{
      {"id",
       {{"type", "string"},
        {"description", "starts with " + std::string(noun.at("idPrefix").as_string())}}},
      {"version", {{"type", "integer"}, {"description", "bumped by every change; the ETag"}}},
      {"createdAt", {{"type", "string"}, {"format", "date-time"}}},
      {"updatedAt", {{"type", "string"}, {"format", "date-time"}}}};
  json::object input_properties;
  json::array required{"id", "version", "createdAt", "updatedAt"};
  json::array input_required;
  for (const auto& [field, spec] : noun.at("fields").as_object()) {
    json::object schema = field_schema(spec.as_object());
    properties[field] = schema;
    if (!spec.as_object().contains("writtenBy")) input_properties[field] = schema;
    if (spec.as_object().contains("required")) {
      required.push_back(json::string(field));
      input_required.push_back(json::string(field));
    }
  }
  schemas[name] = {{"type", "object"},
                   {"description", noun.at("description")},
                   {"properties", std::move(properties)},
                   {"required", std::move(required)}};
  json::object input{{"type", "object"}, {"properties", input_properties}};
  if (!input_required.empty()) input["required"] = std::move(input_required);
  schemas[name + "Create"] = std::move(input);
  schemas[name + "Patch"] = {{"type", "object"}, {"properties", std::move(input_properties)}};
  schemas[name + "Page"] = {
      {"type", "object"},
      {"properties",
       {{"items", {{"type", "array"}, {"items", ref("schemas", name)}}},
        {"nextCursor", {{"type", "string"}, {"description", "pass as cursor for the next page"}}},
        {"next", {{"type", "string"}, {"description", "the next page's path (also in Link)"}}}}},
      {"required", {"items"}}};
}

json::object components() {
  json::object responses;
  const std::pair<int, const char*> kErrors[] = {
      {400, "malformed request: JSON that does not parse, a bad query parameter"},
      {401, "no token, or a wrong one (Authorization: Bearer)"},
      {403,
       "refused: an Origin or Host that is not allowed, or a key whose role may not do this (a "
       "reader writing; scripts, keys and projects need admin)"},
      {404, "no such project, noun, entity or verb"},
      {405, "the path does not take this method (see Allow)"},
      {409, "a refused transition (with status and allowedVerbs) or a taken unique value"},
      {412, "If-Match names a version that is no longer current"},
      {413, "the body is larger than --max-message-bytes"},
      {415, "the body is not application/json"},
      {422, "validation failed, or a hook refused the verb (field names the input)"},
      {428, "PATCH without If-Match"},
      {500, "internal error (incident id in the server log)"}};
  for (const auto& [status, description] : kErrors)
    responses[std::to_string(status)] = {
        {"description", description},
        {"content", json_content(ref("schemas", "Problem"), "application/problem+json")}};
  json::object problem{
      {"type", "object"},
      {"description", "RFC 9457 problem details"},
      {"properties",
       {{"type", {{"type", "string"}, {"description", "urn:verdict:problem:<name>"}}},
        {"title", {{"type", "string"}}},
        {"status", {{"type", "integer"}}},
        {"detail", {{"type", "string"}}},
        {"field", {{"type", "string"}, {"description", "the input at fault"}}},
        {"code", {{"type", "string"}, {"description", "Verdict's error category"}}},
        {"entityStatus", {{"type", "string"}, {"description", "409: the state that refused"}}},
        {"allowedVerbs", {{"type", "array"}, {"items", {{"type", "string"}}}}},
        {"incident", {{"type", "string"}}}}},
      {"required", {"type", "title", "status", "detail"}}};
  json::object parameters{
      {"project",
       {{"name", "project"},
        {"in", "path"},
        {"required", true},
        {"description", "the project; `default` until projects exist"},
        {"schema", {{"type", "string"}}}}},
      {"id",
       {{"name", "id"},
        {"in", "path"},
        {"required", true},
        {"description", "id, or the slug (a FeatureFlag's key)"},
        {"schema", {{"type", "string"}}}}},
      {"filter",
       {{"name", "filter"},
        {"in", "query"},
        {"description", "the JSON filter language of find, e.g. {\"confidence\":{\"$gte\":95}}"},
        {"schema", {{"type", "string"}}}}},
      {"sort",
       {{"name", "sort"},
        {"in", "query"},
        {"description", "comma-separated fields; a leading - sorts descending"},
        {"schema", {{"type", "string"}}}}},
      {"limit",
       {{"name", "limit"},
        {"in", "query"},
        {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}}}},
      {"cursor", {{"name", "cursor"}, {"in", "query"}, {"schema", {{"type", "string"}}}}},
      {"ifMatch",
       {{"name", "If-Match"},
        {"in", "header"},
        {"description", "the ETag (version) of the copy being changed"},
        {"schema", {{"type", "string"}}}}}};
  return {{"schemas",
           {{"Problem", std::move(problem)},
            {"Result", {{"type", "object"}, {"description", "the verb's result"}}},
            {"Deleted",
             {{"type", "object"},
              {"properties", {{"id", {{"type", "string"}}}, {"deleted", {{"type", "boolean"}}}}},
              {"required", {"id", "deleted"}}}},
            {"History",
             {{"type", "object"},
              {"properties",
               {{"items", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                {"nextCursor",
                 {{"type", "string"}, {"description", "pass as cursor for the next page"}}},
                {"next",
                 {{"type", "string"}, {"description", "the next page's path (also in Link)"}}}}},
              {"required", {"items"}}}}}},
          {"responses", std::move(responses)},
          {"parameters", std::move(parameters)},
          {"headers",
           {{"ETag",
             {{
                  "description",
                  "the entity's version, quoted",
              },
              {"schema", {{"type", "string"}}}}}}},
          {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}};
}

}  // namespace

json::object openapi_document(const json::object& schema) {
  json::object document = components();
  json::object& schemas = document["schemas"].as_object();
  json::object paths;
  json::array tags;
  const json::object id_params{
      {"parameters", {ref("parameters", "project"), ref("parameters", "id")}}};
  for (const json::value& entry : schema.at("nouns").as_array()) {
    const json::object& noun = entry.as_object();
    const std::string name(noun.at("name").as_string());
    const std::string base = "/~{project}/" + plural_of(name);
    noun_schemas(noun, schemas);
    tags.push_back({{"name", name}, {"description", noun.at("description")}});

    json::array list_params{ref("parameters", "filter"), ref("parameters", "sort"),
                            ref("parameters", "limit"), ref("parameters", "cursor")};
    for (const auto& [field, spec] : noun.at("fields").as_object()) {
      std::string_view type = spec.at("type").as_string();
      if (type == "json") continue;
      json::object param_schema = field_schema(spec.as_object());
      param_schema.erase("readOnly");
      list_params.push_back({{"name", field},
                             {"in", "query"},
                             {"description", "equal to this value"},
                             {"schema", std::move(param_schema)}});
    }
    json::object list =
        operation("list" + name, "find " + name + " entities", name,
                  with_errors({{"200", ok("a page", ref("schemas", name + "Page"))}}, {}));
    list["parameters"] = std::move(list_params);
    json::object create = operation(
        "create" + name, "create a " + name, name,
        with_errors({{"201", ok("created", ref("schemas", name), true)}}, {409, 413, 415, 422}));
    create["requestBody"] = body(ref("schemas", name + "Create"), true);
    paths[base] = {{"parameters", {ref("parameters", "project")}},
                   {"get", std::move(list)},
                   {"post", std::move(create)}};

    json::object patch = operation("update" + name, "change fields (If-Match required)", name,
                                   with_errors({{"200", ok("updated", ref("schemas", name), true)}},
                                               {409, 412, 413, 415, 422, 428}));
    patch["requestBody"] = body(ref("schemas", name + "Patch"), true);
    patch["parameters"] = {ref("parameters", "ifMatch")};
    json::object remove = operation(
        "delete" + name, "delete it", name,
        with_errors({{"200", ok("deleted", ref("schemas", "Deleted"))}}, {409, 412, 422}));
    remove["parameters"] = {ref("parameters", "ifMatch")};
    json::object item = id_params;
    item["get"] =
        operation("get" + name, "one " + name + " by id or slug", name,
                  with_errors({{"200", ok("the entity", ref("schemas", name), true)},
                               {"304", {{"description", "If-None-Match holds the ETag"}}}},
                              {}));
    item["patch"] = std::move(patch);
    item["delete"] = std::move(remove);
    paths[base + "/{id}"] = std::move(item);
    json::object events = id_params;
    events["get"] = operation(
        "events" + name, "the entity's history (event log), a page at a time", name,
        with_errors(
            {{"200", ok("a page of its events, oldest first (100 unless limit says otherwise)",
                        ref("schemas", "History"))}},
            {422}));
    events["get"].as_object()["parameters"] = {ref("parameters", "limit"),
                                               ref("parameters", "cursor")};
    paths[base + "/{id}/events"] = std::move(events);

    for (const auto& [verb, spec_value] : noun.at("verbs").as_object()) {
      const json::object& spec = spec_value.as_object();
      std::string_view kind = spec.at("kind").as_string();
      if (verb == "create" || verb == "update" || verb == "delete") continue;
      const bool collection = spec.contains("collection");
      json::object data_properties;
      if (const json::value* params = spec.if_contains("params"))
        for (const auto& [param, type] : params->as_object())
          data_properties[param] = field_schema({{"type", type}});
      std::string summary = spec.contains("description")
                                ? std::string(spec.at("description").as_string())
                                : std::string(verb);
      if (const json::value* from = spec.if_contains("from")) {
        std::string states;
        for (const json::value& state : from->as_array())
          states += (states.empty() ? "" : "|") + std::string(state.as_string());
        summary += " (from " + states +
                   (spec.contains("to") ? " to " + std::string(spec.at("to").as_string()) : "") +
                   ")";
      }
      json::object op = operation(
          std::string(verb) + name, summary, name,
          with_errors(
              {{"200", ok(std::string(spec.at("event").as_string()),
                          kind == "custom" ? ref("schemas", "Result") : ref("schemas", name))}},
              {409, 413, 415, 422}));
      op["requestBody"] =
          body({{"type", "object"}, {"properties", std::move(data_properties)}}, false);
      json::object path =
          collection ? json::object{{"parameters", {ref("parameters", "project")}}} : id_params;
      const std::string prefix = base + (collection ? "/" : "/{id}/");
      // An alias (`launch` for `start`) is served at its own path: the same operation, named
      // after it.
      if (const json::value* aliases = spec.if_contains("aliases"))
        for (const json::value& alias : aliases->as_array()) {
          json::object alias_path = path;
          json::object alias_op = op;
          alias_op["operationId"] = std::string(alias.as_string()) + name;
          alias_op["summary"] = "same as " + std::string(verb) + ": " + summary;
          alias_path["post"] = std::move(alias_op);
          paths[prefix + std::string(alias.as_string())] = std::move(alias_path);
        }
      path["post"] = std::move(op);
      paths[prefix + std::string(verb)] = std::move(path);
    }
  }
  AdminApi::describe(paths, schemas);
  tags.push_back({{"name", AdminApi::kTag},
                  {"description", "seed 000's admin console API (snake_case shapes)"}});
  json::object out{{"openapi", "3.1.0"},
                   {"info",
                    {{"title", "Verdict REST API"},
                     {"version", kVersion},
                     {"description",
                      "Every noun of Verdict's schema at /~{project}/{plural}, and the admin "
                      "console's API at /v1/admin; generated from the schema by the running "
                      "server."}}},
                   {"servers", {{{"url", "/"}}}},
                   {"security", {json::object{}, {{"bearer", json::array{}}}}},
                   {"tags", std::move(tags)},
                   {"paths", std::move(paths)},
                   {"components", std::move(document)}};
  return out;
}

}  // namespace verdict::server::http::rest
