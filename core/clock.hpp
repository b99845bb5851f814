#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace verdict {

/// A source of the current time for what runs on a timetable (scheduled starts and ends, stepped
/// rollouts), so tests move time forward instead of sleeping. Implementations are called from
/// the engine's thread only.
class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  /// The system's wall clock.
  static const Clock& system();
};

/// `time` as the canonical ISO 8601 UTC text (`2026-11-23T17:26:35.123Z`).
std::string to_iso8601(std::chrono::system_clock::time_point time);

/// The current UTC time as ISO 8601 with milliseconds: `2026-11-23T17:26:35.123Z`.
std::string now_iso8601();

/// True for an ISO 8601 UTC timestamp: `YYYY-MM-DD`, or with `THH:MM[:SS[.fff]]` and `Z` or
/// `+00:00`, with calendar-valid fields.
bool is_iso8601_utc(std::string_view text);

/// The canonical form of a valid timestamp, `2026-01-31T12:00:00.000Z`, so stored datetimes sort
/// and compare as text; nullopt when `text` is not valid.
std::optional<std::string> normalize_iso8601_utc(std::string_view text);

/// The instant a valid ISO 8601 UTC timestamp names; nullopt when `text` is not valid.
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text);

}  // namespace verdict
