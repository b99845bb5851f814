#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace verdict {

/// What a key may do. Each role includes the one before it, except the evaluator, which only
/// assigns and evaluates flags (the key an application embeds).
enum class Role { kEvaluator, kReader, kWriter, kAdmin };

const char* to_string(Role role) noexcept;
std::optional<Role> parse_role(std::string_view text);

/// The id of the project that always exists; data written before projects existed is in it.
inline constexpr std::string_view kDefaultProjectId = "prj_default";
inline constexpr std::string_view kDefaultProjectSlug = "default";

/// Who makes a call: the project every read and write is scoped to, the key that authenticated
/// the caller (empty for the local operator) and its role. Built by a transport from a presented
/// secret (access::KeyStore::authenticate) or as the local operator; passed to Engine calls.
struct Caller {
  std::string project_id = std::string(kDefaultProjectId);
  std::string project_slug = std::string(kDefaultProjectSlug);
  std::string key_id;    ///< empty: the local operator (stdio, the shell, an unkeyed loopback)
  std::string key_name;  ///< the key's name, recorded with its id in the event log
  Role role = Role::kAdmin;

  /// The operator of a project: an admin without a key.
  static Caller local_operator(std::string project_id = std::string(kDefaultProjectId),
                               std::string project_slug = std::string(kDefaultProjectSlug)) {
    return {std::move(project_id), std::move(project_slug), {}, {}, Role::kAdmin};
  }
};

/// Whether a key of role `held` may do what needs `needed`.
bool allows(Role held, Role needed);

/// Throws Error(kUnauthorized) naming the role `action` needs when `caller` does not have it.
/// The action comes in parts ({"get ", noun}), joined only for the refusal: the check runs on
/// every call, the message almost never.
void require_role(const Caller& caller, Role needed,
                  std::initializer_list<std::string_view> action);

}  // namespace verdict
