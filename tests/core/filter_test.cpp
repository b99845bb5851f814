#include "core/filter.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

class FilterTest : public ::testing::Test {
 protected:
  Schema schema_ = Schema::builtin();
  const Noun& experiment_ = schema_.noun("Experiment");

  std::string error_field(const json::object& filter) {
    try {
      compile_filter(experiment_, filter);
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << error.what();
      return error.field();
    }
    return "";
  }
};

TEST_F(FilterTest, EmptyFilterMatchesEverything) {
  auto condition = compile_filter(experiment_, {});
  EXPECT_EQ(condition.sql, "TRUE");
  EXPECT_TRUE(condition.params.empty());
}

TEST_F(FilterTest, ValuesAreBoundNeverInlined) {
  std::string hostile = "x' OR 1=1 --";
  auto condition = compile_filter(
      experiment_, {{"name", hostile}, {"slug", {{"$in", json::array{"draft", hostile}}}}});
  EXPECT_EQ(condition.sql.find(hostile), std::string::npos) << condition.sql;
  EXPECT_EQ(condition.sql.find('\''), std::string::npos) << condition.sql;
  ASSERT_EQ(condition.params.size(), 2u);
  EXPECT_EQ(condition.params[0], json::value(hostile));
  // A list is one parameter, a JSON array that json_each unpacks in SQLite.
  EXPECT_EQ(json::parse(condition.params[1].as_string()), (json::array{"draft", hostile}));
}

TEST_F(FilterTest, EqualityShorthandIsEq) {
  auto shorthand = compile_filter(experiment_, {{"status", "Running"}});
  auto explicit_eq = compile_filter(experiment_, {{"status", {{"$eq", "Running"}}}});
  EXPECT_EQ(shorthand.params, explicit_eq.params);
  EXPECT_NE(shorthand.sql.find("\"status\" = ?"), std::string::npos) << shorthand.sql;
}

TEST_F(FilterTest, NullEqualityIsIsNull) {
  EXPECT_NE(compile_filter(experiment_, {{"winner", nullptr}}).sql.find("IS NULL"),
            std::string::npos);
  EXPECT_THAT(
      [&] {
        compile_filter(experiment_, {{"confidence", {{"$gt", nullptr}}}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "filter.confidence.$gt"));
}

TEST_F(FilterTest, UnknownFieldIsNamed) {
  EXPECT_EQ(error_field({{"colour", "red"}}), "filter.colour");
  EXPECT_EQ(error_field({{"$or", json::array{{{"colour", "red"}}}}}), "filter.colour");
}

TEST_F(FilterTest, UnknownOperatorsAreErrors) {
  EXPECT_EQ(error_field({{"confidence", {{"$near", 5}}}}), "filter.confidence.$near");
  EXPECT_EQ(error_field({{"$xor", json::array{{{"name", "a"}}}}}), "filter.$xor");
  EXPECT_EQ(error_field({{"confidence", {{"$gt", 5}, {"lt", 9}}}}), "filter.confidence");
}

TEST_F(FilterTest, OperandTypesMustMatchTheField) {
  EXPECT_EQ(error_field({{"confidence", "high"}}), "filter.confidence");
  EXPECT_EQ(error_field({{"confidence", {{"$gte", "95"}}}}), "filter.confidence.$gte");
  EXPECT_EQ(error_field({{"name", 5}}), "filter.name");
  EXPECT_EQ(error_field({{"status", "Bogus"}}), "filter.status");
  EXPECT_EQ(error_field({{"banditEnabled", "yes"}}), "filter.banditEnabled");
  EXPECT_EQ(error_field({{"startAt", {{"$gt", "last week"}}}}), "filter.startAt.$gt");
  EXPECT_EQ(error_field({{"status", {{"$in", "Draft"}}}}), "filter.status.$in");
  EXPECT_EQ(error_field({{"status", {{"$in", json::array{"Draft", 3}}}}}), "filter.status.$in[1]");
  EXPECT_EQ(error_field({{"winner", {{"$exists", 1}}}}), "filter.winner.$exists");
  EXPECT_EQ(error_field({{"confidence", {{"$regex", "9"}}}}), "filter.confidence.$regex");
  EXPECT_EQ(error_field({{"name", {{"$regex", 5}}}}), "filter.name.$regex");
  EXPECT_EQ(error_field({{"variants", {{"$eq", "x"}}}}), "filter.variants.$eq");
  // Ranges are not applied to operands: "more than 100" is a fine question to ask.
  EXPECT_EQ(error_field({{"confidence", {{"$lt", 1000}}}}), "");
}

TEST_F(FilterTest, InvalidRegexIsAnInvalidArgument) {
  EXPECT_EQ(error_field({{"name", {{"$regex", "("}}}}), "filter.name.$regex");
  EXPECT_EQ(error_field({{"name", {{"$regex", std::string(600, 'a')}}}}), "filter.name.$regex");
}

TEST_F(FilterTest, LogicalOperatorsNeedNonEmptyLists) {
  EXPECT_EQ(error_field({{"$and", json::array{}}}), "filter.$and");
  EXPECT_EQ(error_field({{"$or", "x"}}), "filter.$or");
  EXPECT_EQ(error_field({{"$nor", json::array{"x"}}}), "filter.$nor");
}

TEST_F(FilterTest, NestingIsBounded) {
  json::object filter{{"name", "a"}};
  for (int i = 0; i < 20; ++i) filter = json::object{{"$and", json::array{filter}}};
  EXPECT_EQ(error_field(filter), "filter");
}

TEST_F(FilterTest, ListsAreBounded) {
  json::array values;
  for (int i = 0; i < 1001; ++i) values.push_back("Draft");
  EXPECT_EQ(error_field({{"status", {{"$in", values}}}}), "filter.status.$in");
}

TEST_F(FilterTest, MetaFieldsAreFilterable) {
  EXPECT_EQ(error_field({{"id", "experiment_12345678"}}), "");
  EXPECT_EQ(error_field({{"version", {{"$gte", 2}}}}), "");
  EXPECT_EQ(error_field({{"createdAt", {{"$gt", "2026-01-01T00:00:00Z"}}}}), "");
}

TEST_F(FilterTest, SortEndsWithIdAndChecksFields) {
  auto compile_sort = [](const Noun& noun, const json::object& sort) {
    return order_by(parse_sort(noun, sort));
  };
  EXPECT_EQ(compile_sort(experiment_, {}), "\"id\" ASC");
  EXPECT_EQ(compile_sort(experiment_, {{"confidence", "desc"}, {"name", 1}}),
            "\"confidence\" DESC, \"name\" ASC, \"id\" ASC");
  EXPECT_EQ(compile_sort(experiment_, {{"createdAt", -1}}), "\"createdAt\" DESC, \"id\" DESC");
  try {
    compile_sort(experiment_, {{"colour", "asc"}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "sort.colour");
  }
  EXPECT_THAT(
      [&] {
        compile_sort(experiment_, {{"name", "up"}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "sort.name"));
  EXPECT_THAT(
      [&] {
        compile_sort(experiment_, {{"name", 2}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "sort.name"));
}

TEST_F(FilterTest, QuoteIdentifierEscapesQuotes) {
  EXPECT_EQ(quote_identifier("name"), "\"name\"");
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
}

}  // namespace
}  // namespace verdict
