#pragma once

#include <string_view>

namespace verdict {
class Engine;
}

namespace verdict::access {

/// Declares the nouns `Project` and `Key`, which admins manage through `do` like any other:
/// `Key.create {role, name?}` returns the new key with its secret (the only time it is shown),
/// `Key.revoke`, `Project.create {slug, name?}` (admins of `default` only). find and get show
/// them read-only, to admins, in the caller's project; a key's secret is never readable. The
/// rows are the KeyStore's tables, shown through the store's row sources.
void add_access_nouns(Engine& engine);

/// The actor the event log names for changes made from the command line (`verdict keys ...`,
/// `verdict projects create`, `--token-file`).
inline constexpr const char* kShellActor = "cli";

/// Adopts the --token-file token as the admin key `token-file` of `default`
/// (KeyStore::adopt_secret) and logs what changed, `Key.Created` and `Key.Revoked` by the
/// `cli` actor, in one transaction.
void adopt_token_file(Engine& engine, std::string_view secret);

}  // namespace verdict::access
