#include "core/json_style.hpp"

#include <gtest/gtest.h>

namespace verdict {
namespace {

namespace json = boost::json;

TEST(JsonStyleTest, NumbersAreWrittenAsJavaScriptWritesThem) {
  EXPECT_EQ(to_json_text(0.1), "0.1");
  EXPECT_EQ(to_json_text(98.39), "98.39");
  EXPECT_EQ(to_json_text(-2.5), "-2.5");
  EXPECT_EQ(to_json_text(1e-6), "0.000001");
  EXPECT_EQ(to_json_text(1e-7), "1e-7");
  EXPECT_EQ(to_json_text(1.5e-8), "1.5e-8");
  EXPECT_EQ(to_json_text(1e21), "1e+21");
  EXPECT_EQ(to_json_text(123456.0), "123456");
  EXPECT_EQ(to_json_text(0.0), "0");
  EXPECT_EQ(to_json_text(1.5918183982055467e-07), "1.5918183982055467e-7");
  EXPECT_EQ(to_json_text(json::value(42)), "42");
  // Every text parses back to the same number.
  for (double x : {0.1, 1.0 / 3, 6.02214076e23, 4.9e-324, 1e-7, 0.000345, 2535.0})
    EXPECT_EQ(json::parse(to_json_text(x)).to_number<double>(), x) << x;
}

TEST(JsonStyleTest, StructureAndStringsMatchBoostJson) {
  json::value value = json::parse(
      R"({"a":[1,"two",null,true,{"b":"q\"uote\\\n"}],"é":"\u0001","n":-7,"big":18446744073709551615})");
  EXPECT_EQ(json::parse(to_json_text(value)), value);
  EXPECT_EQ(to_json_text(json::parse(R"({"k":[1,{"x":"y"}]})")), R"({"k":[1,{"x":"y"}]})");
}

TEST(JsonStyleTest, CamelCaseKeysEverywhere) {
  json::value value = json::parse(
      R"({"p_value_holm":1,"srm":{"chi2":2},"comparisons":[{"chance_to_win":0.5,"ci":[1,2]}],"_x":1})");
  EXPECT_EQ(
      camel_case_keys(value),
      json::parse(
          R"({"pValueHolm":1,"srm":{"chi2":2},"comparisons":[{"chanceToWin":0.5,"ci":[1,2]}],"_x":1})"));
}

TEST(JsonStyleTest, FindMembersFindsWhatIfContainsFinds) {
  using namespace std::string_view_literals;
  // A repeated key keeps its last value, as the parser keeps it; a key that only begins like a
  // name, or differs in case, is not that name.
  json::object object =
      json::parse(R"({"id":1,"method":"get","idx":2,"Method":3,"params":{},"id":4})").as_object();
  auto names = std::array{"id"sv, "method"sv, "params"sv, "missing"sv, "i"sv};
  auto found = find_members(object, names);
  for (std::size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(found[i], object.if_contains(names[i])) << names[i];
  ASSERT_NE(found[0], nullptr);
  EXPECT_EQ(*found[0], 4);
  EXPECT_EQ(found[3], nullptr);
  EXPECT_EQ(find_members(json::object{}, names)[0], nullptr);
}

}  // namespace
}  // namespace verdict
