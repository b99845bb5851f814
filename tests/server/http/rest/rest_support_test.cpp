#include "server/http/rest/rest_support.hpp"

#include <gtest/gtest.h>

namespace verdict::server::http::rest {
namespace {

TEST(UrlDecodeTest, DecodesPercentEscapesOfEitherCaseAndPlusOnlyInAQuery) {
  EXPECT_EQ(url_decode("experiment_AbC", false), "experiment_AbC");
  EXPECT_EQ(url_decode("a%20b%2Fc%2fd%7E", false), "a b/c/d~");
  EXPECT_EQ(url_decode("%E2%82%AC", false), "\xE2\x82\xAC");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b%2B", true), "a b+");
  // What is not an escape stays as it is.
  EXPECT_EQ(url_decode("100%", false), "100%");
  EXPECT_EQ(url_decode("%4", false), "%4");
  EXPECT_EQ(url_decode("%zz%4g", false), "%zz%4g");
  EXPECT_EQ(url_decode("%41", false), "A");
  EXPECT_EQ(url_decode("", true), "");
}

}  // namespace
}  // namespace verdict::server::http::rest
