#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/clock.hpp"

namespace verdict {

namespace {
std::atomic<LogLevel> threshold{LogLevel::kInfo};
std::mutex output;
constexpr const char* kNames[] = {"debug", "info", "warning", "error", "off"};
}  // namespace

void set_log_level(LogLevel level) {
  threshold = level;
}
LogLevel log_level() {
  return threshold;
}

bool parse_log_level(std::string_view text, LogLevel& level) {
  for (int i = 0; i <= static_cast<int>(LogLevel::kOff); ++i) {
    if (text == kNames[i]) {
      level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void log(LogLevel level, std::string_view message) {
  if (level < threshold.load(std::memory_order_relaxed)) return;
  std::string line =
      now_iso8601() + " " + kNames[static_cast<int>(level)] + " " + std::string(message) + "\n";
  std::lock_guard lock(output);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace verdict
