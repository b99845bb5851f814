#include "server/http/rest/rest_support.hpp"

#include <gtest/gtest.h>

#include "core/engine.hpp"

namespace verdict::server::http::rest {
namespace {

// A GET's ETag comes from the entity's text without building it: the top level's "version"
// only, wherever it sits, whatever nested values are called.
TEST(TopLevelVersionTest, ReadsOnlyTheTopLevelsVersion) {
  EXPECT_EQ(top_level_version(R"({"id":"e_1","version":3})"), 3);
  EXPECT_EQ(top_level_version(R"({"meta":{"version":99},"list":[{"version":98}],"version":4})"), 4);
  EXPECT_EQ(top_level_version(R"({"version":5,"meta":{"version":99}})"), 5);
  EXPECT_EQ(top_level_version(R"({"name":"version","v\u0065rsion":6})"), 6)
      << "an escaped key is still the key";
  EXPECT_EQ(top_level_version(R"({"meta":{"version":99}})"), std::nullopt);
  EXPECT_EQ(top_level_version(R"({"version":"7"})"), std::nullopt) << "a string is no version";
  EXPECT_EQ(top_level_version(R"({"version":{"n":8}})"), std::nullopt);
  EXPECT_EQ(top_level_version(R"({"version":9)"), std::nullopt) << "cut short";
  EXPECT_EQ(top_level_version(""), std::nullopt);
}

// On an entity as the engine writes it, with a JSON field that holds a "version" of its own, it
// agrees with a full parse.
TEST(TopLevelVersionTest, AgreesWithTheParsedEntity) {
  Engine engine(":memory:");
  auto run = [&](std::string verb, std::string id, boost::json::object data) {
    VerbRequest request{.noun = "FeatureFlag",
                        .verb = std::move(verb),
                        .id = std::move(id),
                        .data = std::move(data)};
    request.caller = engine.caller();
    return engine.execute(request);
  };
  auto created =
      run("create", "",
          {{"name", "etag flag"}, {"key", "etag-flag"}, {"defaultValue", {{"version", 42}}}});
  std::string id(created.at("id").as_string());
  run("update", id, {{"defaultValue", {{"version", 43}, {"list", {1, 2}}}}});
  std::string text = engine.get_json(engine.caller(), "FeatureFlag", id);
  ASSERT_NE(text.find(R"("version":43)"), std::string::npos) << text;
  EXPECT_EQ(top_level_version(text), boost::json::parse(text).at("version").as_int64()) << text;
  EXPECT_EQ(top_level_version(text), 2) << text;
}

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
