#pragma once

#include <filesystem>
#include <optional>

namespace verdict::server {

/// Where the shipped hooks are: `<prefix>/share/verdict/hooks` beside the running binary
/// (`<prefix>/bin/verdict`), so an installed or moved tree finds its own; else the source tree's
/// `hooks/` a build-tree binary was compiled from. Empty when neither exists.
std::optional<std::filesystem::path> shipped_hooks_dir();

/// The shipped hooks directory of a binary at `executable`, if one exists there.
std::optional<std::filesystem::path> hooks_dir_beside(const std::filesystem::path& executable);

}  // namespace verdict::server
