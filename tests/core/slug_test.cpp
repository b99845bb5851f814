#include "core/slug.hpp"

#include <gtest/gtest.h>

#include <set>

namespace verdict {
namespace {

TEST(SlugTest, SlugifiesToLowerCaseDashes) {
  EXPECT_EQ(slugify("Pricing Page V2!"), "pricing-page-v2");
  EXPECT_EQ(slugify("  --Hello,   World--  "), "hello-world");
  EXPECT_EQ(slugify("a_b.c"), "a-b-c");
  EXPECT_EQ(slugify("!!!"), "");
  EXPECT_EQ(slugify(""), "");
}

TEST(SlugTest, DropsNonAsciiAndCapsLength) {
  EXPECT_EQ(slugify("caf\xc3\xa9"), "caf");
  std::string slug = slugify(std::string(200, 'x'));
  EXPECT_EQ(slug.size(), 80u);
  std::string dashed = slugify(std::string(79, 'x') + " yyyy");
  EXPECT_LE(dashed.size(), 80u);
  EXPECT_NE(dashed.back(), '-');
}

TEST(SlugTest, SlugifyIsIdempotent) {
  for (const char* text : {"Pricing Page V2!", "a  b", "x-y-z"})
    EXPECT_EQ(slugify(slugify(text)), slugify(text)) << text;
}

TEST(SlugTest, NewIdHasPrefixAndEightBase62Characters) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_id("featureFlag");
    ASSERT_EQ(id.size(), std::string("featureFlag_").size() + 8) << id;
    ASSERT_TRUE(id.starts_with("featureFlag_")) << id;
    for (char c : id.substr(12)) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SlugTest, NewIdUsesTheWholeAlphabet) {
  std::set<char> characters;
  for (int i = 0; i < 2000; ++i)
    for (char c : new_id("x").substr(2)) characters.insert(c);
  EXPECT_EQ(characters.size(), 62u);
}

}  // namespace
}  // namespace verdict
