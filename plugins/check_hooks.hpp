#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugins/limits.hpp"

namespace verdict::plugins {

/// `verdict hooks check DIR...`: loads every script of `dirs` in load order (see find_scripts)
/// against a scratch in-memory engine, without serving. Returns one message per problem, each
/// naming the file and line ("cannot load ops/x.lua: syntax error at ops/x.lua:3: ..."); empty
/// when every script loads.
std::vector<std::string> check_hooks(const std::vector<std::filesystem::path>& dirs,
                                     const Limits& limits = {});

}  // namespace verdict::plugins
