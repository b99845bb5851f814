#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "core/engine.hpp"
#include "plugins/limits.hpp"

namespace verdict::plugins {

/// `do {script}`: runs a Lua snippet in a fresh sandbox with the same API as an after hook (`ctx`,
/// and every noun as a global: `Experiment.find{status = 'Running'}`) and returns its first return
/// value as JSON (null when it returns nothing). Everything runs in one transaction: a script that
/// raises changes nothing. Verbs it runs are recorded with `actor` and trigger their hooks; every
/// `ctx` call is scoped to `caller`'s project.
/// Throws Error: the script's own error as kInvalidArgument with its message ("boom (script:3)"),
/// a failed verb it let through with that verb's code, a spent limit as kLimitExceeded.
boost::json::value run_script(Engine& engine, std::string_view source, const std::string& actor,
                              const Limits& limits = {},
                              const Caller& caller = Caller::local_operator());

}  // namespace verdict::plugins
