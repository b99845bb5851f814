#pragma once

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

}  // namespace verdict::access
