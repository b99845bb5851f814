#include "server/mcp_protocol.hpp"

#include <algorithm>
#include <charconv>

#include "core/error.hpp"
#include "verdict/version.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 8> kLogLevels = {"debug", "info",     "notice", "warning",
                                                        "error", "critical", "alert",  "emergency"};
constexpr std::string_view kCursorPrefix = "offset:";

}  // namespace

bool is_legacy_version(std::string_view version) {
  return std::find(kLegacyVersions.begin(), kLegacyVersions.end(), version) !=
         kLegacyVersions.end();
}

std::string_view negotiate_legacy_version(std::string_view requested) {
  return is_legacy_version(requested) ? requested : kLegacyVersions.front();
}

bool has_structured_output(std::string_view version) {
  return version >= std::string_view("2025-06-18");
}

json::object server_info() {
  return {{"name", "verdict"}, {"title", "Verdict"}, {"version", kVersion}};
}

json::object server_capabilities() {
  return {{"tools", {{"listChanged", false}}},
          {"resources", {{"listChanged", false}}},
          {"prompts", {{"listChanged", false}}},
          {"logging", json::object{}}};
}

int log_level_rank(std::string_view level) {
  auto it = std::find(kLogLevels.begin(), kLogLevels.end(), level);
  return it == kLogLevels.end() ? -1 : static_cast<int>(it - kLogLevels.begin());
}

void paginate(json::array items, std::string_view key, std::string_view cursor,
              std::size_t page_size, json::object& result) {
  std::size_t offset = 0;
  if (!cursor.empty()) {
    auto digits = cursor.substr(std::min(cursor.size(), kCursorPrefix.size()));
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
    if (!cursor.starts_with(kCursorPrefix) || ec != std::errc() ||
        end != digits.data() + digits.size() || offset > items.size())
      invalid("cursor", "not a cursor from this list (pass back nextCursor unchanged)");
  }
  std::size_t end = std::min(items.size(), offset + page_size);
  json::array page(std::make_move_iterator(items.begin() + offset),
                   std::make_move_iterator(items.begin() + end));
  result[key] = std::move(page);
  if (end < items.size()) result["nextCursor"] = std::string(kCursorPrefix) + std::to_string(end);
}

std::string notification_line(std::string_view method, json::object params) {
  return json::serialize(
      json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
}

}  // namespace verdict::server
