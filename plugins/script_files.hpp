#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace verdict::plugins {

/// A hook script to load.
struct ScriptFile {
  std::filesystem::path path;
  std::string name;  ///< `<directory name>/<file name>`, e.g. `hooks/starting-validation.lua`
};

/// The `*.lua` files of `dirs` in load order: directories in the order given, files sorted by name
/// within each. A file named like one of an earlier directory replaces it at its place in the
/// order, so an operator overrides a shipped hook by name (and disables it with an empty file).
/// Throws Error(kNotFound) naming a directory that does not exist.
std::vector<ScriptFile> find_scripts(const std::vector<std::filesystem::path>& dirs);

}  // namespace verdict::plugins
