#include "core/assignment/condition.hpp"

#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace verdict::assignment {
namespace {

namespace json = boost::json;

bool matches(std::string_view condition, std::string_view attributes,
             std::string_view saved_groups = "{}") {
  return eval_condition(json::parse(attributes).as_object(), json::parse(condition).as_object(),
                        json::parse(saved_groups).as_object());
}

TEST(ConditionTest, InvalidRegexNeverMatches) {
  EXPECT_FALSE(matches(R"({"name": {"$regex": "(unclosed"}})", R"({"name": "(unclosed"})"));
  EXPECT_FALSE(matches(R"({"name": {"$notRegex": "(unclosed"}})", R"({"name": "x"})"));
  EXPECT_FALSE(matches(R"({"name": {"$regexi": "[z-a]"}})", R"({"name": "x"})"));
  // Evaluated twice: the second answer comes from the per-thread cache of failures.
  EXPECT_FALSE(matches(R"({"name": {"$regex": "(unclosed"}})", R"({"name": "x"})"));
}

TEST(ConditionTest, RegexBoundsAreNonMatches) {
  const std::string long_pattern(kMaxRegexPatternLength + 1, 'a');
  EXPECT_FALSE(matches(R"({"name": {"$regex": ")" + long_pattern + R"("}})",
                       R"({"name": ")" + long_pattern + R"("})"));
  const std::string long_subject(kMaxRegexSubjectLength + 1, 'a');
  EXPECT_FALSE(matches(R"({"name": {"$regex": "a"}})", R"({"name": ")" + long_subject + R"("})"));
  EXPECT_FALSE(
      matches(R"({"name": {"$notRegex": "b"}})", R"({"name": ")" + long_subject + R"("})"));
  const std::string longest_subject(kMaxRegexSubjectLength, 'a');
  EXPECT_TRUE(
      matches(R"({"name": {"$regex": "^(a|b)*$"}})", R"({"name": ")" + longest_subject + R"("})"));
}

TEST(ConditionTest, RegexCoercesNonStringAttributes) {
  EXPECT_TRUE(matches(R"({"n": {"$regex": "^12$"}})", R"({"n": 12})"));
  EXPECT_TRUE(matches(R"({"n": {"$regex": "^null$"}})", R"({})"));  // missing is null
}

TEST(ConditionTest, RegexIsUsableFromSeveralThreads) {
  std::thread other(
      [] { EXPECT_TRUE(matches(R"({"ua": {"$regex": "Mobile"}})", R"({"ua": "Mobile"})")); });
  EXPECT_TRUE(matches(R"({"ua": {"$regex": "Mobile"}})", R"({"ua": "A Mobile"})"));
  other.join();
}

TEST(ConditionTest, MalformedConditionsNeverMatch) {
  EXPECT_FALSE(matches(R"({"$or": {"a": 1}})", R"({"a": 1})"));
  EXPECT_FALSE(matches(R"({"$and": [1]})", R"({"a": 1})"));
  // Failing locally would turn into a match under $not or $nor; the whole condition fails.
  EXPECT_FALSE(matches(R"({"$not": {"$or": "a"}})", R"({"a": 1})"));
  EXPECT_FALSE(matches(R"({"$nor": [{"$and": 5}]})", R"({"a": 1})"));
  EXPECT_FALSE(matches(R"({"$not": 5})", R"({"a": 1})"));
  EXPECT_FALSE(matches(R"({"tags": {"$elemMatch": 5}})", R"({"tags": [1]})"));
}

// Built in code: json::parse itself refuses documents this deep.
json::object nested_and(int levels) {
  json::object condition{{"a", 1}};
  for (int i = 0; i < levels; ++i) {
    json::object wrapper;
    wrapper["$and"] = json::array{std::move(condition)};
    condition = std::move(wrapper);
  }
  return condition;
}

TEST(ConditionTest, NestingIsBounded) {
  const json::object attributes{{"a", 1}};
  EXPECT_FALSE(eval_condition(attributes, nested_and(kMaxConditionDepth)));
  EXPECT_TRUE(eval_condition(attributes, nested_and(kMaxConditionDepth / 4)));
}

TEST(ConditionTest, UnknownOperatorFailsOnlyItself) {
  EXPECT_FALSE(matches(R"({"a": {"$bogus": 1}})", R"({"a": 1})"));
  EXPECT_TRUE(matches(R"({"$not": {"a": {"$bogus": 1}}})", R"({"a": 1})"));
}

TEST(ConditionTest, LiteralsCoerceAsInJavaScript) {
  EXPECT_TRUE(matches(R"({"n": "10"})", R"({"n": 10})"));  // value + "" === "10"
  EXPECT_TRUE(matches(R"({"n": 10})", R"({"n": "10"})"));  // value * 1 === 10
  EXPECT_TRUE(matches(R"({"n": 0})", R"({})"));            // null * 1 === 0
  EXPECT_TRUE(matches(R"({"flag": true})", R"({"flag": 1})"));
  EXPECT_FALSE(matches(R"({"flag": false})", R"({})"));
  EXPECT_FALSE(matches(R"({"n": {"$eq": "10"}})", R"({"n": 10})"));  // strict
}

TEST(ConditionTest, PathsReachNestedObjectsAndArrayIndexes) {
  EXPECT_TRUE(matches(R"({"a.b.c": 1})", R"({"a": {"b": {"c": 1}}})"));
  EXPECT_TRUE(matches(R"({"tags.1": "y"})", R"({"tags": ["x", "y"]})"));
  EXPECT_FALSE(matches(R"({"tags.01": "y"})", R"({"tags": ["x", "y"]})"));
  EXPECT_TRUE(matches(R"({"tags.5": {"$exists": false}})", R"({"tags": ["x"]})"));
}

TEST(ConditionTest, CaseInsensitiveOperatorsFoldAscii) {
  EXPECT_TRUE(matches(R"({"c": {"$ini": ["FR", "DE"]}})", R"({"c": "fr"})"));
  EXPECT_FALSE(matches(R"({"c": {"$ini": ["ÉTÉ"]}})", R"({"c": "été"})"));
}

TEST(ConditionTest, SavedGroupsThatAreNotArraysNeverMatch) {
  EXPECT_FALSE(matches(R"({"id": {"$inGroup": "g"}})", R"({"id": 1})", R"({"g": {"x": 1}})"));
  EXPECT_FALSE(matches(R"({"id": {"$notInGroup": "g"}})", R"({"id": 1})", R"({"g": "oops"})"));
  EXPECT_TRUE(matches(R"({"id": {"$notInGroup": "g"}})", R"({"id": 1})", R"({"g": null})"));
}

TEST(ConditionTest, PaddedVersionStringSortsVersions) {
  EXPECT_EQ(padded_version_string(json::parse(R"("v1.2.3+build")")), "    1-    2-    3-~");
  EXPECT_EQ(padded_version_string(json::parse(R"("1.0.0-rc.1")")), "    1-    0-    0-rc-    1");
  EXPECT_EQ(padded_version_string(json::parse("2")), "    2");
  EXPECT_EQ(padded_version_string(json::parse("null")), "    0");
  EXPECT_EQ(padded_version_string(json::parse(R"("")")), "    0");
}

}  // namespace
}  // namespace verdict::assignment
