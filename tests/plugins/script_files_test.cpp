#include "plugins/script_files.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "hook_dir.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict::plugins {
namespace {

using test_support::ThrowsError;

using testing::HookDir;

std::vector<std::string> names(const std::vector<ScriptFile>& files) {
  std::vector<std::string> out;
  for (const auto& file : files) out.push_back(file.name);
  return out;
}

TEST(ScriptFilesTest, OrdersByDirectoryThenNameAndReplacesByName) {
  HookDir shipped("hooks");
  shipped.write("b.lua", "").write("a.lua", "").write("notes.txt", "");
  HookDir ops("ops");
  ops.write("z.lua", "").write("b.lua", "");
  auto files = find_scripts({shipped.path(), ops.path()});
  EXPECT_EQ(names(files), (std::vector<std::string>{"hooks/a.lua", "ops/b.lua", "ops/z.lua"}));
  EXPECT_EQ(files[1].path, ops.path() / "b.lua");
  EXPECT_THAT([&] { find_scripts({shipped.path() / "missing"}); },
              ThrowsError(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace verdict::plugins
