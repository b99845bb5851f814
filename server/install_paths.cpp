#include "server/install_paths.hpp"

#include <system_error>

namespace verdict::server {

std::optional<std::filesystem::path> hooks_dir_beside(const std::filesystem::path& executable) {
  std::error_code ec;
  auto dir = executable.parent_path().parent_path() / "share" / "verdict" / "hooks";
  if (std::filesystem::is_directory(dir, ec)) return dir;
  return std::nullopt;
}

std::optional<std::filesystem::path> shipped_hooks_dir() {
  std::error_code ec;
  auto executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    if (auto beside = hooks_dir_beside(executable)) return beside;
  // A binary run from its build tree uses the hooks of the sources it was built from.
  if (std::filesystem::is_directory(VERDICT_HOOKS_DIR, ec)) return VERDICT_HOOKS_DIR;
  return std::nullopt;
}

}  // namespace verdict::server
