#pragma once

#include <string_view>

namespace verdict {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

/// Sets the lowest level written; logs go to stderr, never stdout (stdout carries protocol).
void set_log_level(LogLevel level);
LogLevel log_level();
/// Parses debug|info|warning|error|off; returns false for anything else.
bool parse_log_level(std::string_view text, LogLevel& level);
void log(LogLevel level, std::string_view message);

}  // namespace verdict
