#include "server/http/mcp_session_table.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace verdict::server::http {

namespace {

// 128 bits from the CSPRNG: a session id is a bearer capability for the session's state.
std::string random_session_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the random source failed to produce a session id");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char byte : bytes) {
    id += kHex[byte >> 4];
    id += kHex[byte & 15];
  }
  return id;
}

}  // namespace

McpSessionTable::McpSessionTable(std::size_t max_sessions,
                                 std::chrono::steady_clock::duration idle_expiry)
    : max_sessions_(max_sessions), idle_expiry_(idle_expiry) {}

void McpSessionTable::expire(std::chrono::steady_clock::time_point now) {
  std::erase_if(sessions_,
                [&](const auto& entry) { return now - entry.second->last_used >= idle_expiry_; });
}

std::pair<std::string, std::shared_ptr<McpHttpSession>> McpSessionTable::create() {
  auto now = std::chrono::steady_clock::now();
  if (sessions_.size() >= max_sessions_) expire(now);
  if (sessions_.size() >= max_sessions_) return {};
  std::string id = random_session_id();
  auto session = std::make_shared<McpHttpSession>();
  session->last_used = now;
  sessions_.emplace(id, session);
  return {id, session};
}

std::shared_ptr<McpHttpSession> McpSessionTable::find(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  auto now = std::chrono::steady_clock::now();
  if (now - it->second->last_used >= idle_expiry_) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second->last_used = now;
  return it->second;
}

bool McpSessionTable::erase(const std::string& id) {
  return sessions_.erase(id) > 0;
}

}  // namespace verdict::server::http
