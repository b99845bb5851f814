#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access/caller.hpp"
#include "core/storage/connection.hpp"

namespace verdict::access {

struct ProjectInfo {
  std::string id;
  std::string slug;
  std::string name;
  std::string created_at;
};

/// A key as listed: never its secret, which only its SHA-256 digest stands for.
struct KeyInfo {
  std::string id;
  std::string project_id;
  std::string project_slug;
  std::string name;
  Role role = Role::kReader;
  std::string hint;  ///< the secret's first characters, to tell keys apart
  std::string created_at;
  std::string revoked_at;  ///< empty while the key works
};

struct NewKey {
  KeyInfo key;
  std::string secret;  ///< shown once; not stored
};

/// The hint of the key a --token-file token is adopted as: a generated key's hint is its
/// secret's first characters (`vk_...`), so no other key has it, whatever its name.
inline constexpr std::string_view kTokenFileHint = "(token file)";

/// What adopting a token file did.
struct Adoption {
  KeyInfo key;                   ///< the token's key
  bool created = false;          ///< the token was new: its key was made now
  std::vector<KeyInfo> retired;  ///< earlier token files' keys, revoked now
};

/// Projects and API keys, in the store's database (tables `project` and `api_key`). The
/// `default` project always exists. A secret is stored only as its SHA-256 digest; a presented
/// secret is found through an index on the digest's first bytes and compared in constant time.
/// Not thread-safe: the engine's thread owns it, like the Store.
/// What KeyStore::generation returns: the store it came from and its count of changes.
struct KeyGeneration {
  std::uint64_t store = 0;
  std::int64_t changes = 0;
  bool operator==(const KeyGeneration&) const = default;
};

class KeyStore {
 public:
  /// kReadOnly: over a reader's connection; creates nothing (the writer's KeyStore did).
  explicit KeyStore(storage::Connection& db,
                    storage::OpenMode mode = storage::OpenMode::kReadWrite);

  /// Throws kInvalidArgument (bad slug), kConflict (slug taken).
  ProjectInfo create_project(std::string_view slug, std::string_view name);
  std::vector<ProjectInfo> projects();
  /// The project with this id or slug; throws kNotFound naming `field` otherwise.
  ProjectInfo project(std::string_view id_or_slug, std::string_view field = "project");

  /// A new key with a fresh random secret.
  NewKey create_key(std::string_view project, Role role, std::string_view name);
  /// Makes `secret` (the --token-file token) an admin key of the default project named `name`,
  /// marked by kTokenFileHint, and revokes any other key so marked: idempotent across restarts,
  /// and a changed token file retires the old token. Keys merely named `name` are not touched.
  Adoption adopt_secret(std::string_view secret, std::string_view name);
  /// Every key, or a project's keys, oldest first.
  std::vector<KeyInfo> keys(std::string_view project = {});
  /// Throws kNotFound unless a key has this id (in `project`, when given).
  KeyInfo revoke(std::string_view key_id, std::string_view project = {});

  /// The caller a presented secret stands for, or nothing when it is unknown or revoked.
  std::optional<Caller> authenticate(std::string_view secret);
  /// The local operator (admin without a key) of a project given by id or slug.
  Caller operator_of(std::string_view project);

  /// Changes whenever a key may have been revoked: by this store, or by another connection
  /// (another process, or another thread's store) that wrote the file. A caller authenticated at
  /// one generation is still valid while it holds. Generations of two stores never compare
  /// equal (a stamp's data_version counts per connection), so a caller checked by another thread's
  /// store is checked again.
  KeyGeneration generation();
  /// Whether the key is still unrevoked: a lookup by primary key.
  bool active(std::string_view key_id);

 private:
  KeyInfo read_key(storage::Statement& statement);

  storage::Connection& db_;
  const std::uint64_t instance_;
  std::int64_t revocations_ = 0;
};

/// The SHA-256 digest of a secret in lower-case hex: what the store keeps instead of it.
std::string sha256_hex(std::string_view text);

}  // namespace verdict::access
