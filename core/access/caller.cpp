#include "core/access/caller.hpp"

#include "core/error.hpp"

namespace verdict {

const char* to_string(Role role) noexcept {
  switch (role) {
    case Role::kEvaluator:
      return "evaluator";
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role role : {Role::kEvaluator, Role::kReader, Role::kWriter, Role::kAdmin})
    if (text == to_string(role)) return role;
  return std::nullopt;
}

bool allows(Role held, Role needed) {
  // The evaluator is below the writer but beside the reader: it assigns and evaluates only.
  if (held == needed || held == Role::kAdmin) return true;
  return held == Role::kWriter && needed != Role::kAdmin;
}

void require_role(const Caller& caller, Role needed,
                  std::initializer_list<std::string_view> action) {
  if (allows(caller.role, needed)) return;
  std::string action_text;
  for (std::string_view part : action) action_text += part;
  std::string roles;
  for (Role role : {Role::kEvaluator, Role::kReader, Role::kWriter, Role::kAdmin})
    if (allows(role, needed)) roles += std::string(roles.empty() ? "" : ", ") + to_string(role);
  throw Error(ErrorCode::kUnauthorized,
              "role: " + action_text + " needs one of the roles " + roles + " (this key is " +
                  to_string(caller.role) + ")",
              "role");
}

}  // namespace verdict
