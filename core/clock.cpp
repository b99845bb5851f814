#include "core/clock.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>

namespace verdict {

namespace {

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

std::string now_iso8601() {
  return to_iso8601(std::chrono::system_clock::now());
}

std::string to_iso8601(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(now);
  year_month_day date{days};
  hh_mm_ss time{floor<milliseconds>(now - days)};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()),
                static_cast<long>(time.subseconds().count()));
  return buffer;
}

std::optional<std::string> normalize_iso8601_utc(std::string_view text) {
  static const std::regex pattern(
      R"((\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|\+00:?00))?)");
  if (text.size() > 40) return std::nullopt;
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(text.begin(), text.end(), match, pattern)) return std::nullopt;
  auto number = [&](int group) { return match[group].matched ? std::stoi(match[group].str()) : 0; };
  std::chrono::year_month_day date{std::chrono::year(number(1)),
                                   std::chrono::month(static_cast<unsigned>(number(2))),
                                   std::chrono::day(static_cast<unsigned>(number(3)))};
  if (!date.ok() || number(4) >= 24 || number(5) >= 60 || number(6) >= 60) return std::nullopt;
  std::string millis = match[7].matched ? match[7].str() : "";
  millis = (millis + "000").substr(0, 3);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%sZ", number(1), number(2),
                number(3), number(4), number(5), number(6), millis.c_str());
  return std::string(buffer);
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text) {
  const auto normal = normalize_iso8601_utc(text);
  if (!normal) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  std::sscanf(normal->c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &year, &month, &day, &hour, &minute,
              &second, &millis);
  using namespace std::chrono;
  const sys_days date =
      year_month_day{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  return date + hours(hour) + minutes(minute) + seconds(second) + milliseconds(millis);
}

bool is_iso8601_utc(std::string_view text) {
  return normalize_iso8601_utc(text).has_value();
}

}  // namespace verdict
