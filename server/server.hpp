#pragma once

#include <functional>
#include <memory>

#include "server/cli.hpp"
#include "server/dispatcher.hpp"
#include "server/engine_worker.hpp"

namespace verdict::server {

/// The serving process: stdio and socket transports on Boost.Asio, one engine thread behind
/// them, signal handling. run() returns when stdin reaches EOF (with stdio on) or on
/// SIGINT/SIGTERM, after answering every request already received.
class Server {
 public:
  /// `reload_hooks` runs on the engine thread when SIGHUP arrives.
  Server(const ServeOptions& options, Engine& engine, Dispatcher& dispatcher,
         std::function<void()> reload_hooks);
  ~Server();

  /// Serves until shutdown; returns the process exit status.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// True for addresses that only this machine can reach (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace verdict::server
