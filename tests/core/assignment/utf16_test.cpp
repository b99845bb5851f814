#include "core/assignment/utf16.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdict::assignment {
namespace {

std::u16string units_of(std::string_view text) {
  std::u16string units;
  for_each_utf16_unit(text, [&](char16_t unit) { units.push_back(unit); });
  return units;
}

TEST(Utf16Test, EncodesAsJavaScriptStrings) {
  EXPECT_EQ(units_of("abc"), u"abc");
  EXPECT_EQ(units_of("é用"), u"é用");
  EXPECT_EQ(units_of("😀"), std::u16string({0xD83D, 0xDE00}));
}

TEST(Utf16Test, MalformedBytesBecomeReplacementCharacters) {
  EXPECT_EQ(units_of("\xFF"), u"\uFFFD");
  EXPECT_EQ(units_of("\xE2\x82"), u"\uFFFD\uFFFD");            // truncated
  EXPECT_EQ(units_of("\xED\xA0\x80"), u"\uFFFD\uFFFD\uFFFD");  // encoded surrogate
}

TEST(Utf16Test, ComparesByCodeUnits) {
  EXPECT_LT(compare_utf16("a", "b"), 0);
  EXPECT_LT(compare_utf16("ab", "abc"), 0);
  EXPECT_EQ(compare_utf16("abc", "abc"), 0);
  EXPECT_GT(compare_utf16("b", "abc"), 0);
  EXPECT_LT(compare_utf16("Z", "a"), 0);
  // U+1F600 is above U+FF61 in code points and UTF-8 bytes, but its lead surrogate
  // 0xD83D sorts below 0xFF61 in UTF-16, and JavaScript compares UTF-16.
  EXPECT_LT(compare_utf16("😀", "\uFF61"), 0);
  EXPECT_GT(compare_utf16("x\uFF61", "x😀"), 0);
}

}  // namespace
}  // namespace verdict::assignment
