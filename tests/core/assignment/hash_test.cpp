#include "core/assignment/hash.hpp"

#include <gtest/gtest.h>

namespace verdict::assignment {
namespace {

TEST(HashTest, Fnv1a32MatchesTheReferenceVectors) {
  EXPECT_EQ(fnv1a32(""), 0x811C9DC5u);
  EXPECT_EQ(fnv1a32("a"), 0xE40C292Cu);
  EXPECT_EQ(fnv1a32("foobar"), 0xBF9CF968u);
}

// Expected values computed independently over the strings' UTF-16 code units, as
// JavaScript's charCodeAt sees them; hashing UTF-8 bytes would give different buckets.
TEST(HashTest, NonAsciiUnitsHashAsUtf16CodeUnits) {
  EXPECT_EQ(fnv1a32("élodie"), 2655074913u);
  EXPECT_DOUBLE_EQ(*hash("seed", "élodie", 2), 0.8862);
  EXPECT_DOUBLE_EQ(*hash("seed", "élodie", 1), 0.584);
  EXPECT_DOUBLE_EQ(*hash("exp-1", "用户-42", 2), 0.8753);
  EXPECT_DOUBLE_EQ(*hash("", "ü", 1), 0.987);
}

TEST(HashTest, SupplementaryCharactersHashAsSurrogatePairs) {
  EXPECT_EQ(fnv1a32("😀"), 3409036472u);
  EXPECT_DOUBLE_EQ(*hash("exp-1", "😀", 2), 0.5997);
  EXPECT_DOUBLE_EQ(*hash("exp-1", "😀", 1), 0.253);
}

TEST(HashTest, MalformedUtf8HashesAsTheReplacementCharacter) {
  EXPECT_EQ(fnv1a32("\xFF"), fnv1a32("\xEF\xBF\xBD"));
  EXPECT_EQ(fnv1a32("a\xC0\xAF"), fnv1a32("a\xEF\xBF\xBD\xEF\xBF\xBD"));  // overlong "/"
}

TEST(HashTest, UnknownVersionsHaveNoHash) {
  EXPECT_FALSE(hash("seed", "unit", 0).has_value());
  EXPECT_FALSE(hash("seed", "unit", 3).has_value());
  EXPECT_FALSE(hash("seed", "unit", -1).has_value());
}

TEST(HashTest, HashesStayInTheUnitInterval) {
  for (int i = 0; i < 5000; ++i) {
    const std::string unit = "user-" + std::to_string(i);
    for (int version : {1, 2}) {
      const double n = *hash("exp", unit, version);
      ASSERT_GE(n, 0.0);
      ASSERT_LT(n, 1.0);
    }
  }
}

TEST(HashTest, NamespaceSlicesPartitionUnits) {
  const Namespace low{"checkout", 0, 0.5};
  const Namespace high{"checkout", 0.5, 1};
  for (int i = 0; i < 1000; ++i) {
    const std::string unit = std::to_string(i);
    EXPECT_NE(in_namespace(unit, low), in_namespace(unit, high)) << unit;
  }
  EXPECT_FALSE(in_namespace("1", Namespace{"checkout", 0.3, 0.3}));
}

}  // namespace
}  // namespace verdict::assignment
