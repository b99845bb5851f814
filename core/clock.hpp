#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace verdict {

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
