#include "core/entity_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/json_style.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

TEST(EntityJsonTest, QuotedIsTheTextAsAJsonStringLiteral) {
  // Quotes, backslashes, a control character (Boost.JSON's escapes) and UTF-8 left as it is.
  EntityJson entity(R"({"name":"say \"hi\"\\","note":"tab	end","city":"Zürich"})");
  std::string expected;
  append_json_string(expected, entity.text());
  EXPECT_EQ(entity.quoted(), expected);
  EXPECT_EQ(json::parse(entity.quoted()).as_string(), entity.text());
  // Escaped once and kept: the same bytes at the same address.
  EXPECT_EQ(entity.quoted().data(), entity.quoted().data());
}

TEST(EntityJsonTest, EmptyTextQuotesToTwoQuotes) {
  EXPECT_EQ(EntityJson().quoted(), "\"\"");
  EXPECT_EQ(EntityJson("{}").quoted(), "\"{}\"");
}

}  // namespace
}  // namespace verdict
