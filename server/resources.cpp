#include "server/resources.hpp"

#include "core/error.hpp"
#include "core/json_style.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

constexpr std::string_view kScheme = "verdict://";
constexpr std::string_view kSchemaPrefix = "schema/";
constexpr std::string_view kJson = "application/json";

json::object text_contents(std::string_view uri, const json::value& value) {
  return {{"uri", uri}, {"mimeType", kJson}, {"text", to_json_text(value)}};
}

}  // namespace

std::string entity_uri(std::string_view noun, std::string_view id) {
  return std::string(kScheme) + std::string(noun) + "/" + std::string(id);
}

json::array list_resources(const Schema& schema) {
  json::array resources;
  for (const auto& noun : schema.nouns())
    resources.push_back({{"uri", std::string(kScheme) + std::string(kSchemaPrefix) + noun->name},
                         {"name", "schema/" + noun->name},
                         {"title", noun->name + " schema"},
                         {"description", "fields, verbs and state machine of " + noun->name + " (" +
                                             noun->description + ")"},
                         {"mimeType", kJson}});
  return resources;
}

json::array list_resource_templates() {
  return {{{"uriTemplate", "verdict://schema/{type}"},
           {"name", "schema"},
           {"title", "Noun schema"},
           {"description",
            "fields, verbs and state machine of a noun, e.g. verdict://schema/Experiment"},
           {"mimeType", kJson}},
          {{"uriTemplate", "verdict://{type}/{id}"},
           {"name", "entity"},
           {"title", "Entity"},
           {"description", "one entity by id or slug, e.g. verdict://Experiment/pricing-page-v2"},
           {"mimeType", kJson}}};
}

json::array read_resource(verdict::Engine& engine, const Caller& caller, std::string_view uri) {
  if (!uri.starts_with(kScheme))
    invalid("uri", "not a Verdict resource (verdict://schema/{type} or verdict://{type}/{id})");
  std::string_view path = uri.substr(kScheme.size());
  if (path.starts_with(kSchemaPrefix)) {
    const Noun& noun = engine.schema().noun(path.substr(kSchemaPrefix.size()));
    return {text_contents(uri, describe(noun))};
  }
  auto slash = path.find('/');
  if (slash == std::string_view::npos || slash + 1 == path.size())
    invalid("uri", "expected verdict://{type}/{id}");
  return {text_contents(uri, engine.get(caller, path.substr(0, slash), path.substr(slash + 1)))};
}

}  // namespace verdict::server
