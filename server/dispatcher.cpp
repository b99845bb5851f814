#include "server/dispatcher.hpp"

namespace verdict::server {

namespace json = boost::json;

Dispatcher::Dispatcher(verdict::Engine& engine, DispatcherOptions options,
                       ScriptRunner script_runner)
    : engine_(engine), options_(std::move(options)), script_runner_(std::move(script_runner)) {}

// The protocol lands in the next commits; until then every request is answered with an error
// so the transports can be built and tested against the final interface.
Reply Dispatcher::handle_line(std::string_view, Session&) {
  return {json::serialize(
      json::object{{"jsonrpc", "2.0"},
                   {"id", nullptr},
                   {"error", {{"code", -32603}, {"message", "dispatcher not implemented yet"}}}})};
}

std::string Dispatcher::oversized_reply(std::size_t limit) {
  return json::serialize(
      json::object{{"jsonrpc", "2.0"},
                   {"id", nullptr},
                   {"error",
                    {{"code", -32600},
                     {"message", "message larger than " + std::to_string(limit) + " bytes"}}}});
}

}  // namespace verdict::server
