#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace verdict {
namespace {

TEST(ClockTest, NowIsIso8601UtcWithMilliseconds) {
  std::string now = now_iso8601();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << now;
  EXPECT_TRUE(is_iso8601_utc(now)) << now;
  EXPECT_GE(now, "2025-01-01");
}

TEST(ClockTest, NowIsMonotonicAsText) {
  std::string before = now_iso8601();
  std::string after = now_iso8601();
  EXPECT_LE(before, after);
}

TEST(ClockTest, AcceptsUtcForms) {
  for (const char* text :
       {"2026-01-31", "2026-01-31T12:00Z", "2026-01-31T12:00:59Z", "2026-01-31T23:59:59.123456789Z",
        "2026-01-31T12:00:00+00:00", "2026-01-31T12:00:00+0000", "2024-02-29T00:00:00Z"})
    EXPECT_TRUE(is_iso8601_utc(text)) << text;
}

TEST(ClockTest, RejectsInvalidOrNonUtcTimes) {
  for (const char* text :
       {"", "yesterday", "2026-1-31", "2026-02-29", "2026-04-31", "2026-00-10", "2026-13-01",
        "2026-01-31T24:00:00Z", "2026-01-31T12:60:00Z", "2026-01-31T12:00:60Z",
        "2026-01-31T12:00:00", "2026-01-31T12:00:00+01:00", "2026-01-31 12:00:00Z",
        "2026-01-31T12:00:00.Z", "2026-01-31T12:00:00Zjunk", "x2026-01-31"})
    EXPECT_FALSE(is_iso8601_utc(text)) << text;
  EXPECT_FALSE(is_iso8601_utc(std::string(50, '1')));
}

TEST(ClockTest, NormalizesToOneSortableForm) {
  EXPECT_EQ(normalize_iso8601_utc("2026-01-31"), "2026-01-31T00:00:00.000Z");
  EXPECT_EQ(normalize_iso8601_utc("2026-01-31T12:05+00:00"), "2026-01-31T12:05:00.000Z");
  EXPECT_EQ(normalize_iso8601_utc("2026-01-31T12:05:09.123456Z"), "2026-01-31T12:05:09.123Z");
  EXPECT_EQ(normalize_iso8601_utc("2026-02-30T00:00:00Z"), std::nullopt);
}

TEST(ClockTest, ParsesTimestampsToInstants) {
  using namespace std::chrono;
  const auto start = parse_iso8601_utc("2026-01-31T12:00:00Z");
  const auto later = parse_iso8601_utc("2026-02-01T13:30:00.500+00:00");
  ASSERT_TRUE(start && later);
  EXPECT_EQ(duration_cast<milliseconds>(*later - *start).count(), (25 * 3600 + 1800) * 1000 + 500);
  EXPECT_EQ(duration_cast<seconds>(parse_iso8601_utc("1970-01-02")->time_since_epoch()).count(),
            86400);
  EXPECT_FALSE(parse_iso8601_utc("2026-02-30T00:00:00Z"));
}

}  // namespace
}  // namespace verdict
