#include "core/assignment/js_coercion.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace verdict::assignment::js {
namespace {

namespace json = boost::json;

TEST(JsCoercionTest, NumbersPrintAsJavaScriptPrintsThem) {
  EXPECT_EQ(number_to_string(1), "1");
  EXPECT_EQ(number_to_string(-1.5), "-1.5");
  EXPECT_EQ(number_to_string(0.1), "0.1");
  EXPECT_EQ(number_to_string(0.000001), "0.000001");
  EXPECT_EQ(number_to_string(1e-7), "1e-7");
  EXPECT_EQ(number_to_string(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(number_to_string(1e21), "1e+21");
  EXPECT_EQ(number_to_string(1.5e300), "1.5e+300");
  EXPECT_EQ(number_to_string(-0.0), "0");
  EXPECT_EQ(number_to_string(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(number_to_string(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(JsCoercionTest, ValuesConvertToStrings) {
  EXPECT_EQ(to_string(json::parse("null")), "null");
  EXPECT_EQ(to_string(json::parse("true")), "true");
  EXPECT_EQ(to_string(json::parse("10")), "10");
  EXPECT_EQ(to_string(json::parse("2.50")), "2.5");
  EXPECT_EQ(to_string(json::parse(R"([1, null, "a", [2, 3]])")), "1,,a,2,3");
  EXPECT_EQ(to_string(json::parse(R"({"a": 1})")), "[object Object]");
}

TEST(JsCoercionTest, StringsConvertToNumbers) {
  EXPECT_EQ(string_to_number(""), 0);
  EXPECT_EQ(string_to_number("  12 \n"), 12);
  EXPECT_EQ(string_to_number("+5"), 5);
  EXPECT_EQ(string_to_number("-.5"), -0.5);
  EXPECT_EQ(string_to_number("5."), 5);
  EXPECT_EQ(string_to_number("1e3"), 1000);
  EXPECT_EQ(string_to_number("0x1A"), 26);
  EXPECT_EQ(string_to_number("0b101"), 5);
  EXPECT_EQ(string_to_number("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(string_to_number("1e999"), std::numeric_limits<double>::infinity());
  for (const char* text : {"abc", "inf", "nan", "1_000", "--5", "-0x1", "5e", ".", "0x"}) {
    EXPECT_TRUE(std::isnan(string_to_number(text))) << text;
  }
}

TEST(JsCoercionTest, ParseIntReadsTheLeadingInteger) {
  EXPECT_EQ(parse_int("12"), 12);
  EXPECT_EQ(parse_int("  7px"), 7);
  EXPECT_EQ(parse_int("2.054"), 2);
  EXPECT_EQ(parse_int("-3"), -3);
  EXPECT_EQ(parse_int("+4"), 4);
  EXPECT_EQ(parse_int("0x1A"), 26);
  EXPECT_EQ(parse_int("1e3"), 1);
  EXPECT_TRUE(std::signbit(parse_int("-0")));
  for (const char* text : {"", " ", "-", "x1", ".5", "0x", "0xg"}) {
    EXPECT_TRUE(std::isnan(parse_int(text))) << text;
  }
}

TEST(JsCoercionTest, ValuesConvertToNumbers) {
  EXPECT_EQ(to_number(json::parse("null")), 0);
  EXPECT_EQ(to_number(json::parse("true")), 1);
  EXPECT_EQ(to_number(json::parse("[]")), 0);
  EXPECT_EQ(to_number(json::parse("[7]")), 7);
  EXPECT_TRUE(std::isnan(to_number(json::parse("{}"))));
}

TEST(JsCoercionTest, TruthinessFollowsJavaScript) {
  for (const char* falsy : {"null", "false", "0", "0.0", "\"\""}) {
    EXPECT_FALSE(truthy(json::parse(falsy))) << falsy;
  }
  for (const char* truthy_text : {"true", "-1", "\"0\"", "[]", "{}"}) {
    EXPECT_TRUE(truthy(json::parse(truthy_text))) << truthy_text;
  }
}

TEST(JsCoercionTest, StrictEqualityNeverEqualsObjects) {
  EXPECT_TRUE(strict_equals(json::parse("1"), json::parse("1.0")));
  EXPECT_FALSE(strict_equals(json::parse("1"), json::parse("\"1\"")));
  EXPECT_TRUE(strict_equals(json::parse("null"), json::parse("null")));
  EXPECT_FALSE(strict_equals(json::parse("[1]"), json::parse("[1]")));
}

TEST(JsCoercionTest, ComparisonCoercesAsTheRelationalOperators) {
  EXPECT_TRUE(std::is_lt(compare(json::parse("\"10\""), json::parse("\"9\""))));  // strings
  EXPECT_TRUE(std::is_gt(compare(json::parse("\"10\""), json::parse("9"))));      // numbers
  EXPECT_TRUE(std::is_gt(compare(json::parse("null"), json::parse("-1"))));
  EXPECT_TRUE(std::is_gt(compare(json::parse("[\"b\"]"), json::parse("\"a\""))));
  const auto unordered = compare(json::parse("\"abc\""), json::parse("1"));
  EXPECT_FALSE(std::is_lt(unordered) || std::is_lteq(unordered) || std::is_gteq(unordered));
}

}  // namespace
}  // namespace verdict::assignment::js
