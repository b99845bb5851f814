#include "server/tools.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/json_style.hpp"
#include "server/error_mapping.hpp"
#include "server/mcp_arguments.hpp"

namespace verdict::server {

namespace json = boost::json;
using namespace std::string_view_literals;

namespace {

json::array noun_names(const Schema& schema) {
  json::array names;
  for (const auto& noun : schema.nouns()) names.emplace_back(noun->name);
  return names;
}

json::object string_property(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}

json::object type_property(const Schema& schema) {
  return {{"type", "string"},
          {"enum", noun_names(schema)},
          {"description", "the noun; read verdict://schema/{type} for its fields and verbs"}};
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

// "start (Draft -> Started; alias launch)": what an agent needs to pick a verb and its arguments.
std::string describe_verb(const Verb& verb) {
  std::vector<std::string> notes;
  if (verb.to) {
    notes.push_back((verb.from.empty() ? "any" : join(verb.from, "|")) + " -> " + *verb.to);
  } else if (!verb.from.empty()) {
    notes.push_back("in " + join(verb.from, "|"));
  }
  if (!verb.aliases.empty()) notes.push_back("alias " + join(verb.aliases, ", "));
  if (!verb.params.empty()) {
    std::vector<std::string> params;
    for (const auto& param : verb.params)
      params.push_back(param.name + (param.required ? "!" : ""));
    notes.push_back("data {" + join(params, ", ") + "}");
  }
  std::string out = verb.name;
  if (!notes.empty()) out += " (" + join(notes, "; ") + ")";
  if (!verb.description.empty()) out += ": " + verb.description;
  return out;
}

std::string describe_nouns(const Schema& schema) {
  std::string out;
  for (const auto& noun : schema.nouns()) out += "\n- " + noun->name + ": " + noun->description;
  return out;
}

std::string describe_verbs(const Schema& schema) {
  std::string out;
  for (const auto& noun : schema.nouns()) {
    std::vector<std::string> verbs;
    for (const auto& verb : noun->verbs) verbs.push_back(describe_verb(verb));
    out += "\n- " + noun->name + ": " + join(verbs, "; ");
  }
  return out;
}

json::array verb_names(const Schema& schema) {
  std::set<std::string> names;
  for (const auto& noun : schema.nouns())
    for (const auto& verb : noun->verbs) {
      names.insert(verb.name);
      names.insert(verb.aliases.begin(), verb.aliases.end());
    }
  return json::array(names.begin(), names.end());
}

json::object find_tool(const Schema& schema) {
  json::object properties{
      {"type", type_property(schema)},
      {"filter",
       {{"type", "object"},
        {"description",
         "MongoDB-style filter on the noun's fields: {\"status\": \"Running\"}, "
         "{\"confidence\": {\"$gte\": 95}}; operators $eq $ne $gt $gte $lt $lte $in $nin $exists "
         "$regex, combined with $and $or $nor"}}},
      {"sort",
       {{"type", "object"},
        {"description",
         "field -> \"asc\" | \"desc\", applied in order, e.g. {\"createdAt\": \"desc\"}"}}},
      {"limit",
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", Store::kMaxLimit},
        {"description", "page size, 1-1000 (default 20)"}}},
      {"cursor", string_property("nextCursor of the previous page, passed back unchanged")}};
  return {{"name", "find"},
          {"title", "Find entities"},
          {"description", "Find entities of one type, filtered, sorted and paged. Types:" +
                              describe_nouns(schema)},
          {"inputSchema",
           {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", {"type"}},
            {"additionalProperties", false}}},
          {"outputSchema",
           {{"type", "object"},
            {"properties",
             {{"items", {{"type", "array"}, {"items", {{"type", "object"}}}}},
              {"nextCursor", {{"type", "string"}}}}},
            {"required", {"items"}}}},
          {"annotations",
           {{"title", "Find entities"}, {"readOnlyHint", true}, {"openWorldHint", false}}}};
}

json::object get_tool(const Schema& schema) {
  json::object properties{
      {"type", type_property(schema)},
      {"id", string_property("the entity's id (e.g. experiment_ab12cd34) or its slug")},
      {"include",
       {{"type", "array"},
        {"items", {{"type", "string"}, {"enum", {"history"}}}},
        {"description",
         "extras to include: \"history\" adds a page of the entity's event log, oldest first"}}},
      {"limit",
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", 1000},
        {"description", "events per history page (default 100)"}}},
      {"cursor",
       string_property("the history page after this one: a previous reply's historyNextCursor")}};
  return {{"name", "get"},
          {"title", "Get an entity"},
          {"description", "Get one entity by id or slug, optionally with its event history."},
          {"inputSchema",
           {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", {"type", "id"}},
            {"additionalProperties", false}}},
          {"outputSchema",
           {{"type", "object"},
            {"properties", {{"id", {{"type", "string"}}}, {"version", {{"type", "integer"}}}}},
            {"required", {"id"}}}},
          {"annotations",
           {{"title", "Get an entity"}, {"readOnlyHint", true}, {"openWorldHint", false}}}};
}

json::object do_tool(const Schema& schema, bool scripts_enabled) {
  json::object properties{
      {"type", type_property(schema)},
      {"verb",
       {{"type", "string"},
        {"enum", verb_names(schema)},
        {"description", "the verb; each type accepts only its own verbs (see the description)"}}},
      {"id", string_property("id or slug of the entity; every verb except create needs it")},
      {"data",
       {{"type", "object"},
        {"description",
         "the verb's arguments: the fields to set for create and update, the listed data for "
         "other verbs; add \"version\" to make the verb fail if the entity changed since"}}}};
  std::string description =
      "Run a verb on an entity: create, update, delete, and each type's state changes. A refused "
      "verb (wrong state, invalid data) returns isError with the reason. Verbs by type:" +
      describe_verbs(schema);
  if (scripts_enabled) {
    properties["script"] = string_property(
        "Lua source to run instead of one verb (alone, without the other arguments), in one "
        "transaction; ctx.<Type>.find{filter}, ctx.<Type>.get(id), ctx.<Type>.<verb>(id, data) "
        "are available inside, e.g. return #ctx.Experiment.find{status = 'Running'}");
    description += "\nAlternatively pass only {script} to run several verbs in one Lua script.";
  }
  return {{"name", "do"},
          {"title", "Run a verb"},
          {"description", std::move(description)},
          {"inputSchema",
           {{"type", "object"},
            {"properties", std::move(properties)},
            {"additionalProperties", false}}},
          {"outputSchema",
           {{"type", "object"},
            {"description",
             "the entity after the verb, {id, deleted} for delete, a custom verb's result, or "
             "{result} for a script"}}},
          {"annotations",
           {{"title", "Run a verb"},
            {"readOnlyHint", false},
            {"destructiveHint", true},
            {"idempotentHint", false},
            {"openWorldHint", false}}}};
}

// Changes whenever a plugin or the lead's custom verbs grow the schema, so cached tool
// definitions are regenerated exactly when tools/list would show something new.
std::size_t fingerprint(const Schema& schema) {
  std::size_t value = schema.nouns().size();
  for (const auto& noun : schema.nouns())
    value = value * 1000003 + noun->fields.size() * 1009 + noun->verbs.size();
  return value;
}

const json::object& input_schema(const json::array& definitions, std::string_view name) {
  for (const auto& tool : definitions)
    if (tool.at("name").get_string() == name) return tool.at("inputSchema").get_object();
  throw Error(ErrorCode::kNotFound, "unknown tool " + std::string(name));
}

// `{type, id}` naming a known noun: the common `get`, which its input schema accepts as it is,
// so it needs no check against the schema (nor the schema's definitions refreshed).
bool is_plain_get(const json::object& arguments, const json::value* type, const json::value* id,
                  const Schema& schema) {
  return arguments.size() == 2 && type && id && type->is_string() && id->is_string() &&
         schema.find(type->get_string());
}

std::string string_argument(const json::object& arguments, std::string_view name) {
  const auto* value = arguments.if_contains(name);
  return value ? std::string(value->get_string()) : std::string{};
}

}  // namespace

std::string ToolCaller::actor() const {
  std::string actor(connection);
  if (!client_name.empty()) actor.append(1, '/').append(client_name);
  return actor;
}

std::string ToolCaller::script_refusal() const {
  switch (scripts) {
    case Scripts::kAllowed:
      return {};
    case Scripts::kDisabled:
      return "scripts are disabled on this server (--no-scripts)";
    case Scripts::kNeedAdmin:
      return "role: scripts need the admin role (this key is " +
             std::string(to_string(caller.role)) + ")";
    case Scripts::kNeedAuthentication:
      break;
  }
  return "scripts on " + std::string(transport) +
         " need an authenticated connection: send {\"method\":\"auth\","
         "\"params\":{\"token\":...}} first";
}

Tools::Tools(verdict::Engine& engine, ScriptRunner script_runner, bool scripts_enabled)
    : engine_(engine),
      script_runner_(std::move(script_runner)),
      scripts_enabled_(scripts_enabled) {}

void Tools::refresh() {
  std::size_t current = fingerprint(engine_.schema());
  if (current == schema_fingerprint_ && !definitions_.empty()) return;
  const Schema& schema = engine_.schema();
  definitions_ = {find_tool(schema), get_tool(schema), do_tool(schema, scripts_enabled_)};
  plain_definitions_ = definitions_;
  for (auto& tool : plain_definitions_) tool.get_object().erase("outputSchema");
  schema_fingerprint_ = current;
}

const json::array& Tools::definitions(bool with_output_schema) {
  refresh();
  return with_output_schema ? definitions_ : plain_definitions_;
}

bool Tools::contains(std::string_view name) const {
  return name == "find" || name == "get" || name == "do";
}

json::value Tools::call(std::string_view name, const json::object& arguments,
                        const ToolCaller& caller) {
  check_arguments(input_schema(definitions(true), name), arguments);
  if (name == "find") return find(arguments, caller.caller);
  if (name == "get") return get(arguments, caller.caller);
  return run(arguments, caller);
}

const EntityJson& Tools::call_json(std::string_view name, const json::object& arguments,
                                   const ToolCaller& caller, EntityJson& scratch) {
  if (name == "get") {
    auto [type, id, include, limit, cursor] =
        find_members(arguments, std::array{"type"sv, "id"sv, "include"sv, "limit"sv, "cursor"sv});
    if (!include && !limit && !cursor) {
      if (!is_plain_get(arguments, type, id, engine_.schema()))
        check_arguments(input_schema(definitions(true), name), arguments);
      return engine_.entity_json(caller.caller, type->get_string(), id->get_string());
    }
  }
  scratch = EntityJson(to_json_text(call(name, arguments, caller)));
  return scratch;
}

json::value Tools::find(const json::object& arguments, const Caller& caller) {
  FindQuery query;
  if (const auto* filter = arguments.if_contains("filter")) query.filter = filter->get_object();
  if (const auto* sort = arguments.if_contains("sort")) query.sort = sort->get_object();
  if (const auto* limit = arguments.if_contains("limit"))
    query.limit = limit->to_number<std::int64_t>();
  query.cursor = string_argument(arguments, "cursor");
  FindResult found = engine_.find(caller, arguments.at("type").get_string(), query);
  json::array items;
  items.reserve(found.items.size());
  for (auto& item : found.items) items.emplace_back(std::move(item));
  json::object result{{"items", std::move(items)}};
  if (!found.next_cursor.empty()) result["nextCursor"] = found.next_cursor;
  return result;
}

json::value Tools::get(const json::object& arguments, const Caller& caller) {
  bool with_history = false;
  if (const auto* include = arguments.if_contains("include"))
    with_history = !include->get_array().empty();  // "history" is the only value the schema allows
  HistoryQuery page;
  if (const auto* limit = arguments.if_contains("limit"))
    page.limit = limit->to_number<std::int64_t>();
  page.cursor = string_argument(arguments, "cursor");
  for (const char* paging : {"limit", "cursor"})
    if (!with_history && arguments.contains(paging))
      invalid(paging, "pages the history: pass include: [\"history\"] with it");
  return engine_.get(caller, arguments.at("type").get_string(), arguments.at("id").get_string(),
                     with_history, page);
}

json::value Tools::run(const json::object& arguments, const ToolCaller& caller) {
  if (const auto* script = arguments.if_contains("script")) {
    if (arguments.size() > 1)
      invalid("script", "runs alone; pass either {script} or {type, verb, id?, data?}");
    if (caller.scripts != ToolCaller::Scripts::kAllowed)
      throw Error(ErrorCode::kUnauthorized, "script: " + caller.script_refusal(), "script");
    if (!script_runner_)
      throw Error(ErrorCode::kInternal, "script: this server has no script runner", "script");
    return script_runner_(engine_, std::string(script->get_string()), caller.actor(),
                          caller.caller);
  }
  for (const char* required : {"type", "verb"})
    if (!arguments.contains(required))
      invalid(required, scripts_enabled_ ? "required (or pass only {script})" : "required");
  VerbRequest request{.noun = string_argument(arguments, "type"),
                      .verb = string_argument(arguments, "verb"),
                      .id = string_argument(arguments, "id"),
                      .actor = caller.actor(),
                      .caller = caller.caller};
  if (const auto* data = arguments.if_contains("data")) request.data = data->get_object();
  return engine_.execute(request);
}

void append_tool_result(std::string& out, const EntityJson& value, bool structured,
                        std::size_t spare) {
  constexpr std::string_view kHead = R"({"content":[{"type":"text","text":)";
  std::string_view value_json = value.text();
  std::string_view quoted = value.quoted();
  out.reserve(out.size() + kHead.size() + quoted.size() + value_json.size() + 64 + spare);
  out += kHead;
  out += quoted;
  out += "}]";
  if (structured) {
    // JSON text is an object exactly when it starts with a brace (to_json_text adds no space).
    bool object = value_json.starts_with('{');
    out += object ? R"(,"structuredContent":)" : R"(,"structuredContent":{"result":)";
    out += value_json;
    if (!object) out += '}';
  }
  out += '}';
}

json::object tool_error(std::string_view message) {
  return {{"content", {{{"type", "text"}, {"text", valid_utf8(message)}}}}, {"isError", true}};
}

}  // namespace verdict::server
