#include "plugins/script_files.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace verdict::plugins {

namespace fs = std::filesystem;

std::vector<ScriptFile> find_scripts(const std::vector<fs::path>& dirs) {
  std::vector<ScriptFile> scripts;
  for (const auto& dir : dirs) {
    std::error_code error;
    if (!fs::is_directory(dir, error))
      throw Error(ErrorCode::kNotFound, "hooks directory '" + dir.string() + "' does not exist");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().extension() == ".lua")
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    // "ops/" names its files "ops/x.lua", like "ops" does.
    fs::path label = dir.has_filename() ? dir.filename() : dir.parent_path().filename();
    for (auto& file : files) {
      ScriptFile script{file, (label / file.filename()).generic_string()};
      auto same = std::find_if(scripts.begin(), scripts.end(), [&](const ScriptFile& loaded) {
        return loaded.path.filename() == file.filename();
      });
      if (same == scripts.end()) {
        scripts.push_back(std::move(script));
      } else {
        *same = std::move(script);
      }
    }
  }
  return scripts;
}

}  // namespace verdict::plugins
