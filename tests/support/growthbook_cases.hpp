// GrowthBook's cross-SDK conformance cases (../shared/conformance/growthbook-cases.json) as
// gtest parameters, with a per-section tally printed at the end of the run. Shared by the
// assignment and flag conformance tests, which link into one binary.
#pragma once

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/ci.hpp"

namespace verdict::testing_support {

namespace json = boost::json;

inline constexpr const char* kCasesPath = VERDICT_SHARED_DIR "/conformance/growthbook-cases.json";

struct ConformanceCase {
  std::string section;
  std::size_t index = 0;
  std::string name;
  json::array data;  // empty when the shared folder is missing
};

inline void PrintTo(const ConformanceCase& c, std::ostream* out) {
  *out << c.section << "[" << c.index << "] " << c.name;
}

inline const json::object* shared_cases() {
  static const std::optional<json::object> cases = []() -> std::optional<json::object> {
    std::ifstream file(kCasesPath);
    if (!file) return std::nullopt;
    std::stringstream text;
    text << file.rdbuf();
    return json::parse(text.str()).as_object();
  }();
  return cases ? &*cases : nullptr;
}

// Cases of the "hash" and "getEqualWeights" sections have no name; their inputs name them.
inline std::vector<ConformanceCase> cases_of(const std::string& section) {
  const json::object* all = shared_cases();
  if (!all) return {{section, 0, "shared_folder_missing", {}}};
  std::vector<ConformanceCase> cases;
  const json::array& list = all->at(section).as_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json::array& data = list[i].as_array();
    const std::string name =
        data[0].is_string() ? std::string(data[0].get_string()) : json::serialize(data);
    cases.push_back({section, i, name, data});
  }
  return cases;
}

inline std::string case_name(const testing::TestParamInfo<ConformanceCase>& info) {
  std::string name = std::to_string(info.param.index) + "_";
  for (char c : info.param.name) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name.substr(0, 80);
}

struct Tally {
  int passed = 0;
  int skipped = 0;
  int total = 0;
};

inline std::map<std::string, Tally>& tallies() {
  static std::map<std::string, Tally> by_section;
  return by_section;
}

class ConformanceReport : public testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [section, tally] : tallies()) {
      std::cout << "[conformance] " << section << ": " << tally.passed << "/" << tally.total
                << " passed";
      if (tally.skipped > 0) std::cout << ", " << tally.skipped << " skipped";
      std::cout << "\n";
      testing::Test::RecordProperty("conformance_" + section + "_passed", tally.passed);
    }
  }
};

inline testing::Environment* const kReport =
    testing::AddGlobalTestEnvironment(new ConformanceReport);

class Conformance : public testing::TestWithParam<ConformanceCase> {
 protected:
  void SetUp() override {
    if (!GetParam().data.empty()) return;
    // CI must not pass by skipping every case; a developer without ../shared may.
    if (test_support::in_ci()) FAIL() << kCasesPath << " not found (CI=true)";
    GTEST_SKIP() << "shared folder missing: " << kCasesPath << " not found";
  }
  void TearDown() override {
    Tally& tally = tallies()[GetParam().section];
    ++tally.total;
    if (IsSkipped()) {
      ++tally.skipped;
    } else if (!HasFailure()) {
      ++tally.passed;
    }
  }
  const json::array& data() const { return GetParam().data; }
};

}  // namespace verdict::testing_support
