#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace verdict::plugins::testing {

/// A temporary hooks directory named `label` (so scripts are named `<label>/<file>`), removed
/// when the test ends.
class HookDir {
 public:
  explicit HookDir(const std::string& label = "ops") {
    static std::atomic<int> counter{0};
    root_ = std::filesystem::path(::testing::TempDir()) /
            ("verdict-hooks-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    path_ = root_ / label;
    std::filesystem::create_directories(path_);
  }
  HookDir(const HookDir&) = delete;
  HookDir& operator=(const HookDir&) = delete;
  ~HookDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  const HookDir& write(const std::string& file, const std::string& source) const {
    std::ofstream(path_ / file, std::ios::trunc) << source;
    return *this;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path root_;
  std::filesystem::path path_;
};

}  // namespace verdict::plugins::testing
