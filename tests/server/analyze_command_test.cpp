// `verdict analyze` prints what the server stores: camelCase names and plain numbers.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "tests/support/server_process.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

void expect_camel_case(const json::value& value, const std::string& where) {
  if (value.is_array()) {
    for (const auto& item : value.as_array()) expect_camel_case(item, where + "[]");
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.as_object()) {
      EXPECT_EQ(std::string(key).find('_'), std::string::npos) << where << "." << key;
      expect_camel_case(member, where + "." + std::string(key));
    }
  }
}

// Regression: it printed p_value, chance_to_win, ... and numbers like 1E-1.
TEST(AnalyzeCommandTest, PrintsCamelCaseAndPlainNumbers) {
  std::string input = test_support::temp_path("analyze", "input.json");
  std::ofstream(input) << R"({"metric_type":"proportion","variants":[{"n":1000,"sum":100},)"
                          R"({"n":1000,"sum":130}]})";
  test_support::ServerProcess analyze({"analyze", "--input", input});
  std::string output = analyze.read_all_stdout();
  EXPECT_EQ(analyze.wait(), 0) << analyze.read_all_stderr();
  std::filesystem::remove(input);
  json::value result = json::parse(output);
  expect_camel_case(result, "");
  const auto& lift = result.at("comparisons").at(0).at("lift");
  EXPECT_TRUE(lift.as_object().contains("pValue")) << output;
  EXPECT_TRUE(lift.as_object().contains("pValueHolm")) << output;
  EXPECT_TRUE(result.at("srm").as_object().contains("pValue")) << output;
  EXPECT_EQ(result.at("variants").at(0).at("mean"), 0.1);
  EXPECT_NE(output.find("\"mean\":0.1,"), std::string::npos) << output;
  EXPECT_FALSE(std::regex_search(output, std::regex("[0-9]E[-+]?[0-9]"))) << output;
}

}  // namespace
}  // namespace verdict
