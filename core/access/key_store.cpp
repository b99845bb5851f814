#include "core/access/key_store.hpp"

#include <atomic>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/slug.hpp"
#include "core/storage/catalog.hpp"

namespace verdict::access {

namespace {

constexpr std::size_t kSecretBytes = 24;
constexpr std::size_t kLookupHexChars = 16;
constexpr std::size_t kHintChars = 10;
constexpr std::size_t kMaxNameBytes = 100;

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

// The indexed column a secret is found by: the digest's first bytes, not the secret's, so a
// lookup reveals nothing a timing attack could narrow down.
std::string lookup_of(std::string_view digest) {
  return std::string(digest.substr(0, kLookupHexChars));
}

std::string checked_name(std::string_view name) {
  if (name.size() > kMaxNameBytes)
    invalid("name", "at most " + std::to_string(kMaxNameBytes) + " bytes");
  return std::string(name);
}

void insert_key(storage::Connection& db, const KeyInfo& key, std::string_view digest) {
  auto insert = db.prepare(
      "INSERT INTO api_key (id, project, name, role, hint, lookup, secret_sha256, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, key.id).bind(2, key.project_id).bind(3, key.name).bind(4, to_string(key.role));
  insert.bind(5, key.hint).bind(6, lookup_of(digest)).bind(7, digest).bind(8, key.created_at);
  insert.run();
}

constexpr const char* kKeyColumns =
    "k.id, k.project, p.slug, k.name, k.role, k.hint, k.created_at, k.revoked_at";

// Numbers each KeyStore, so that generations read from different connections never compare
// equal (a stamp's data_version is counted per connection).
std::uint64_t next_instance() {
  static std::atomic<std::uint64_t> instances{0};
  return ++instances;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

KeyStore::KeyStore(storage::Connection& db, storage::OpenMode mode)
    : db_(db), instance_(next_instance()) {
  if (mode == storage::OpenMode::kReadOnly) return;
  db_.exec(storage::ddl(db_.backend(), R"(
    CREATE TABLE IF NOT EXISTS project (
      id {TEXT} PRIMARY KEY, slug {TEXT} NOT NULL UNIQUE, name {TEXT} NOT NULL,
      created_at {TEXT} NOT NULL);
    CREATE TABLE IF NOT EXISTS api_key (
      id {TEXT} PRIMARY KEY, project {TEXT} NOT NULL REFERENCES project(id),
      name {TEXT} NOT NULL, role {TEXT} NOT NULL, hint {TEXT} NOT NULL, lookup {TEXT} NOT NULL,
      secret_sha256 {TEXT} NOT NULL, created_at {TEXT} NOT NULL, revoked_at {TEXT});
    CREATE INDEX IF NOT EXISTS api_key_lookup ON api_key(lookup);
    CREATE INDEX IF NOT EXISTS api_key_project ON api_key(project, created_at);)"));
  auto insert = db_.prepare(
      "INSERT INTO project (id, slug, name, created_at) VALUES (?, ?, 'Default', ?)"
      " ON CONFLICT DO NOTHING");
  insert.bind(1, kDefaultProjectId).bind(2, kDefaultProjectSlug).bind(3, now_iso8601());
  insert.run();
}

ProjectInfo KeyStore::create_project(std::string_view slug, std::string_view name) {
  if (slug.empty() || slugify(slug) != slug)
    invalid("slug", "must be lower-case letters, digits and single dashes, e.g. '" +
                        slugify(slug.empty() ? "acme" : slug) + "'");
  ProjectInfo project{new_id("prj"), std::string(slug), checked_name(name.empty() ? slug : name),
                      now_iso8601()};
  auto taken = db_.prepare("SELECT 1 FROM project WHERE slug = ?");
  taken.bind(1, slug);
  if (taken.step())
    throw Error(ErrorCode::kConflict, "slug: a project '" + std::string(slug) + "' exists", "slug");
  auto insert = db_.prepare("INSERT INTO project (id, slug, name, created_at) VALUES (?, ?, ?, ?)");
  insert.bind(1, project.id)
      .bind(2, project.slug)
      .bind(3, project.name)
      .bind(4, project.created_at);
  insert.run();
  return project;
}

std::vector<ProjectInfo> KeyStore::projects() {
  auto statement =
      db_.prepare("SELECT id, slug, name, created_at FROM project ORDER BY created_at, slug");
  std::vector<ProjectInfo> out;
  while (statement.step())
    out.push_back({statement.column_text(0), statement.column_text(1), statement.column_text(2),
                   statement.column_text(3)});
  return out;
}

ProjectInfo KeyStore::project(std::string_view id_or_slug, std::string_view field) {
  auto statement =
      db_.prepare("SELECT id, slug, name, created_at FROM project WHERE id = ? OR slug = ?");
  statement.bind(1, id_or_slug).bind(2, id_or_slug);
  if (!statement.step())
    throw Error(ErrorCode::kNotFound,
                std::string(field) + ": no project '" + std::string(id_or_slug.substr(0, 100)) +
                    "' (create it with: verdict projects create --db FILE SLUG)",
                std::string(field));
  return {statement.column_text(0), statement.column_text(1), statement.column_text(2),
          statement.column_text(3)};
}

NewKey KeyStore::create_key(std::string_view project_name, Role role, std::string_view name) {
  ProjectInfo project = this->project(project_name);
  unsigned char random[kSecretBytes];
  if (RAND_bytes(random, sizeof random) != 1)
    throw Error(ErrorCode::kInternal, "cannot read random bytes for a key");
  NewKey created;
  created.secret =
      "vk_" + hex(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
  OPENSSL_cleanse(random, sizeof random);
  std::string digest = sha256_hex(created.secret);
  KeyInfo& key = created.key;
  key = {new_id("key"),      project.id, project.slug,
         checked_name(name), role,       created.secret.substr(0, kHintChars),
         now_iso8601(),      {}};
  if (key.name.empty()) key.name = key.id;
  insert_key(db_, key, digest);
  return created;
}

Adoption KeyStore::adopt_secret(std::string_view secret, std::string_view name) {
  std::string digest = sha256_hex(secret);
  std::optional<KeyInfo> kept;
  Adoption adoption;
  for (KeyInfo& key : keys(kDefaultProjectId)) {
    if (key.hint != kTokenFileHint || !key.revoked_at.empty()) continue;
    auto stored = db_.prepare("SELECT secret_sha256 FROM api_key WHERE id = ?");
    stored.bind(1, key.id);
    stored.step();
    if (!kept && stored.column_text(0) == digest)
      kept = std::move(key);
    else
      adoption.retired.push_back(revoke(key.id));
  }
  if (kept) {
    adoption.key = std::move(*kept);
    return adoption;
  }
  adoption.key = {new_id("key"),
                  std::string(kDefaultProjectId),
                  std::string(kDefaultProjectSlug),
                  checked_name(name),
                  Role::kAdmin,
                  std::string(kTokenFileHint),
                  now_iso8601(),
                  {}};
  adoption.created = true;
  insert_key(db_, adoption.key, digest);
  return adoption;
}

KeyInfo KeyStore::read_key(storage::Statement& statement) {
  KeyInfo key;
  key.id = statement.column_text(0);
  key.project_id = statement.column_text(1);
  key.project_slug = statement.column_text(2);
  key.name = statement.column_text(3);
  key.role = parse_role(statement.column_text(4)).value_or(Role::kReader);
  key.hint = statement.column_text(5);
  key.created_at = statement.column_text(6);
  key.revoked_at = statement.column_text(7);
  return key;
}

std::vector<KeyInfo> KeyStore::keys(std::string_view project) {
  std::string sql =
      std::string("SELECT ") + kKeyColumns + " FROM api_key k JOIN project p ON p.id = k.project";
  std::optional<ProjectInfo> scope;
  if (!project.empty()) scope = this->project(project);
  auto statement =
      db_.prepare(sql + (scope ? " WHERE k.project = ?" : "") + " ORDER BY k.created_at, k.id");
  if (scope) statement.bind(1, scope->id);
  std::vector<KeyInfo> out;
  while (statement.step()) out.push_back(read_key(statement));
  return out;
}

KeyInfo KeyStore::revoke(std::string_view key_id, std::string_view project) {
  auto find = db_.prepare(std::string("SELECT ") + kKeyColumns +
                          " FROM api_key k JOIN project p ON p.id = k.project WHERE k.id = ?" +
                          (project.empty() ? "" : " AND (p.id = ? OR p.slug = ?)"));
  find.bind(1, key_id);
  if (!project.empty()) find.bind(2, project).bind(3, project);
  if (!find.step())
    throw Error(ErrorCode::kNotFound, "id: no key '" + std::string(key_id.substr(0, 100)) + "'",
                "id");
  KeyInfo key = read_key(find);
  if (!key.revoked_at.empty()) return key;
  key.revoked_at = now_iso8601();
  auto update = db_.prepare("UPDATE api_key SET revoked_at = ? WHERE id = ?");
  update.bind(1, key.revoked_at).bind(2, key.id);
  update.run();
  ++revocations_;
  return key;
}

std::optional<Caller> KeyStore::authenticate(std::string_view secret) {
  if (secret.empty()) return std::nullopt;
  std::string digest = sha256_hex(secret);
  auto statement = db_.prepare(
      "SELECT k.id, k.name, k.role, k.project, p.slug, k.secret_sha256 FROM api_key k"
      " JOIN project p ON p.id = k.project WHERE k.lookup = ? AND k.revoked_at IS NULL");
  statement.bind(1, lookup_of(digest));
  while (statement.step()) {
    std::string stored = statement.column_text(5);
    if (stored.size() != digest.size() ||
        CRYPTO_memcmp(stored.data(), digest.data(), digest.size()) != 0)
      continue;
    auto role = parse_role(statement.column_text(2));
    if (!role) return std::nullopt;
    return Caller{statement.column_text(3), statement.column_text(4), statement.column_text(0),
                  statement.column_text(1), *role};
  }
  return std::nullopt;
}

Caller KeyStore::operator_of(std::string_view project_name) {
  ProjectInfo project = this->project(project_name);
  return Caller::local_operator(project.id, project.slug);
}

KeyGeneration KeyStore::generation() {
  // data_version moves when another connection (`verdict keys revoke` in a shell, another
  // node) commits; revocations_ when this one revokes. Both only grow, so their sum changes when
  // either does.
  return {instance_, db_.stamp().data_version + revocations_};
}

bool KeyStore::active(std::string_view key_id) {
  auto statement = db_.prepare("SELECT 1 FROM api_key WHERE id = ? AND revoked_at IS NULL");
  statement.bind(1, key_id);
  return statement.step();
}

}  // namespace verdict::access
