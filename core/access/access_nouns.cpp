#include "core/access/access_nouns.hpp"

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/storage/connection.hpp"

namespace verdict::access {

namespace json = boost::json;

namespace {

json::object key_json(const KeyInfo& key) {
  json::object out{{"id", key.id},
                   {"name", key.name},
                   {"role", to_string(key.role)},
                   {"hint", key.hint},
                   {"project", key.project_slug},
                   {"createdAt", key.created_at}};
  if (!key.revoked_at.empty()) out["revokedAt"] = key.revoked_at;
  return out;
}

std::string text_of(const json::object& data, const char* field) {
  const auto* value = data.if_contains(field);
  if (!value || value->is_null()) return {};
  if (!value->is_string()) invalid(field, "expected a string");
  return std::string(value->get_string());
}

// The audit entry of a change to a key or project; never the secret.
void record(Engine& engine, const char* noun, const std::string& id, const char* event,
            const char* verb, json::object data, const VerbRequest& request) {
  engine.store().append_event({.type = std::string(noun) + "." + event,
                               .noun = noun,
                               .entity_id = id,
                               .verb = verb,
                               .data = std::move(data),
                               .actor = request.actor,
                               .key_id = request.caller.key_id,
                               .key_name = request.caller.key_name});
}

Noun access_noun(std::string name, std::string prefix, std::string description,
                 std::vector<Field> fields) {
  Noun noun;
  noun.name = std::move(name);
  noun.id_prefix = std::move(prefix);
  // The generic table stays empty: the rows are the KeyStore's, added as a row source.
  noun.table = "access_" + noun.id_prefix;
  noun.description = std::move(description);
  noun.fields = std::move(fields);
  noun.read_role = Role::kAdmin;
  return noun;
}

Verb admin_verb(std::string name, std::string event, std::string description, bool needs_entity,
                std::vector<Field> params) {
  Verb verb =
      make_verb(std::move(name), VerbKind::kCustom, std::move(event), std::move(description));
  verb.needs_entity = needs_entity;
  verb.role = Role::kAdmin;
  verb.params = std::move(params);
  return verb;
}

json::object created_data(const KeyInfo& key) {
  return {{"name", key.name}, {"role", to_string(key.role)}};
}

}  // namespace

void adopt_token_file(Engine& engine, std::string_view secret) {
  storage::Transaction transaction(engine.store().db());
  Adoption adoption = engine.keys().adopt_secret(secret, "token-file");
  const VerbRequest request{.actor = kShellActor};
  for (const KeyInfo& key : adoption.retired)
    record(engine, "Key", key.id, "Revoked", "revoke", {{"reason", "the token file changed"}},
           request);
  if (adoption.created)
    record(engine, "Key", adoption.key.id, "Created", "create", created_data(adoption.key),
           request);
  transaction.commit();
}

void add_access_nouns(Engine& engine) {
  engine.schema().add_noun(access_noun(
      "Project", "prj",
      "a tenant: every entity belongs to one; admins see their own, admins of default every one",
      {parse_field("slug", "string", "unique, e.g. acme"), parse_field("name", "string", "")}));
  engine.schema().add_noun(
      access_noun("Key", "key", "an API key of this project (its secret is shown once, at create)",
                  {parse_field("name", "string", ""),
                   parse_field("role", "reader | writer | admin | evaluator", ""),
                   parse_field("hint", "string", "the secret's first characters"),
                   parse_field("revokedAt", "datetime", "set by revoke")}));
  Store& store = engine.store();
  store.migrate();
  // Columns: id, version, createdAt, updatedAt, the fields in declaration order, the project.
  store.add_row_source("Project", [](const Noun&) {
    return std::string("SELECT id, 1, created_at, created_at, slug, name, id FROM project");
  });
  // The operator's project is where tenants are made (Project.create): its admins see them all.
  store.add_row_source("Project", [](const Noun&) {
    return "SELECT id, 1, created_at, created_at, slug, name, '" + std::string(kDefaultProjectId) +
           "' FROM project WHERE id <> '" + std::string(kDefaultProjectId) + "'";
  });
  store.add_row_source("Key", [](const Noun&) {
    return std::string(
        "SELECT id, 1, created_at, created_at, name, role, hint, revoked_at, project FROM api_key");
  });

  engine.add_custom_verb(
      "Key",
      admin_verb("create", "Created", "a new key {role, name?}; the result holds its secret, once",
                 false,
                 {parse_field("role", "reader | writer | admin | evaluator", "what it may do"),
                  parse_field("name", "string", "who uses it, e.g. ci-bot")}),
      [](Engine& engine, const Noun&, const VerbRequest& request, json::object*) -> json::value {
        auto role = parse_role(text_of(request.data, "role"));
        if (!role) invalid("role", "must be reader, writer, admin or evaluator");
        NewKey created = engine.keys().create_key(request.caller.project_id, *role,
                                                  text_of(request.data, "name"));
        record(engine, "Key", created.key.id, "Created", "create", created_data(created.key),
               request);
        json::object out = key_json(created.key);
        out["secret"] = created.secret;
        return out;
      });
  engine.add_custom_verb(
      "Key", admin_verb("revoke", "Revoked", "the key stops working at its next request", true, {}),
      [](Engine& engine, const Noun&, const VerbRequest& request,
         json::object* entity) -> json::value {
        std::string id(entity->at("id").as_string());
        KeyInfo key = engine.keys().revoke(id, request.caller.project_id);
        record(engine, "Key", id, "Revoked", "revoke", {}, request);
        return key_json(key);
      });
  engine.add_custom_verb(
      "Project",
      admin_verb("create", "Created", "a new project {slug, name?} (admins of default only)", false,
                 {}),
      [](Engine& engine, const Noun&, const VerbRequest& request, json::object*) -> json::value {
        if (request.caller.project_id != kDefaultProjectId)
          throw Error(ErrorCode::kUnauthorized,
                      "role: Project.create needs an admin of the project default", "role");
        ProjectInfo project = engine.keys().create_project(text_of(request.data, "slug"),
                                                           text_of(request.data, "name"));
        record(engine, "Project", project.id, "Created", "create",
               {{"slug", project.slug}, {"name", project.name}}, request);
        return json::object{{"id", project.id},
                            {"slug", project.slug},
                            {"name", project.name},
                            {"createdAt", project.created_at}};
      });
}

}  // namespace verdict::access
