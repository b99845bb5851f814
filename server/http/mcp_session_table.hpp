#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/http/http_exchange.hpp"

namespace verdict::server::http {

/// The legacy-era (2024-11-05 .. 2025-11-25) MCP sessions of one HTTP listener, keyed by an
/// `Mcp-Session-Id` drawn from OpenSSL's CSPRNG. Bounded in number; a session unused for
/// `idle_expiry` is forgotten, so its client gets 404 and initialises again.
/// Not thread-safe: use it on the I/O thread only.
class McpSessionTable {
 public:
  McpSessionTable(std::size_t max_sessions, std::chrono::steady_clock::duration idle_expiry);

  /// A new session and its id, or an empty id when the table is full of live sessions.
  std::pair<std::string, std::shared_ptr<McpHttpSession>> create();
  /// The session with this id, touched, or null when unknown or expired.
  std::shared_ptr<McpHttpSession> find(const std::string& id);
  /// Ends a session; false when it was unknown.
  bool erase(const std::string& id);

  std::size_t size() const { return sessions_.size(); }

 private:
  void expire(std::chrono::steady_clock::time_point now);

  std::size_t max_sessions_;
  std::chrono::steady_clock::duration idle_expiry_;
  std::unordered_map<std::string, std::shared_ptr<McpHttpSession>> sessions_;
};

}  // namespace verdict::server::http
