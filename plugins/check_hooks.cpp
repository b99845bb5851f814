#include "plugins/check_hooks.hpp"

#include "core/engine.hpp"
#include "core/error.hpp"
#include "plugins/hook_set.hpp"
#include "plugins/script_files.hpp"

namespace verdict::plugins {

std::vector<std::string> check_hooks(const std::vector<std::filesystem::path>& dirs,
                                     const Limits& limits) {
  std::vector<ScriptFile> files;
  try {
    files = find_scripts(dirs);
  } catch (const Error& error) {
    return {error.what()};
  }
  Engine scratch(":memory:");
  HookSet set(scratch.schema(), limits);
  std::vector<std::string> problems;
  // Every file is tried, so one run reports all the broken ones.
  for (const auto& file : files) {
    try {
      set.load(file);
    } catch (const std::exception& error) {
      problems.emplace_back(error.what());
    }
  }
  return problems;
}

}  // namespace verdict::plugins
