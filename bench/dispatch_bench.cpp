// CPU work per request in the dispatcher and tools layer (issue 20, "no wasted work"):
// Dispatcher::handle_line on one line, from its text to the reply line, with no transport or
// thread hand-off around it, against a WAL file database holding one experiment.
//  - plain `get`, the JSON-RPC method the TCP figures use;
//  - `tools/call get` after a 2025-06-18 initialize, the line bench/side_by_side.sh sends over
//    stdio (verdict_load --method tools-get);
//  - the same `tools/call get` in the 2026-07-28 era (`_meta` on the request, `resultType` and
//    serverInfo `_meta` on the reply).
// Not part of the test suite: `build/bench/dispatch_bench`; for instruction counts, run one
// benchmark under `valgrind --tool=callgrind` with a fixed --benchmark_min_time=<N>x.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <filesystem>
#include <string>

#include "core/engine.hpp"
#include "server/dispatcher.hpp"

namespace {

namespace json = boost::json;
using verdict::server::Dispatcher;
using verdict::server::Session;

struct Server {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("verdict-dispatch-bench-" + std::to_string(getpid()) + ".db");
  verdict::Engine engine{path.string()};
  Dispatcher dispatcher{engine, {}};
  std::string id;

  Server() {
    // The experiment verdict_load creates, so the reply is the size the stdio figures serve.
    json::value created =
        engine.execute({.noun = "Experiment",
                        .verb = "create",
                        .data = {{"name", "load test"},
                                 {"primaryMetric", "signup"},
                                 {"variants", json::array{{{"key", "a"}, {"weight", 50}},
                                                          {{"key", "b"}, {"weight", 50}}}}}});
    id = std::string(created.at("id").as_string());
  }
  ~Server() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }

  static Session stdio_session() {
    Session session;
    session.transport = "stdio";
    session.actor = "stdio";
    return session;
  }
};

Server& server() {
  static Server instance;
  return instance;
}

void run(benchmark::State& state, Session& session, const std::string& line) {
  Dispatcher& dispatcher = server().dispatcher;
  // The first reply fills the store's cache; a reply without a result is a broken benchmark.
  if (dispatcher.handle_line(line, session).line.find("\"result\"") == std::string::npos) {
    state.SkipWithError(("no result for " + line).c_str());
    return;
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto reply = dispatcher.handle_line(line, session);
    bytes += reply.line.size();
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["reply_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

void BM_PlainGet(benchmark::State& state) {
  Session session = Server::stdio_session();
  run(state, session,
      R"({"jsonrpc":"2.0","id":1,"method":"get","params":{"type":"Experiment","id":")" +
          server().id + "\"}}");
}
BENCHMARK(BM_PlainGet);

void BM_ToolsCallGetLegacy(benchmark::State& state) {
  Session session = Server::stdio_session();
  server().dispatcher.handle_line(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
      R"("capabilities":{},"clientInfo":{"name":"dispatch_bench","version":"1"}}})",
      session);
  run(state, session,
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get","arguments":)"
      R"({"type":"Experiment","id":")" +
          server().id + "\"}}}");
}
BENCHMARK(BM_ToolsCallGetLegacy);

void BM_ToolsCallGetCurrent(benchmark::State& state) {
  Session session = Server::stdio_session();
  run(state, session,
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get","arguments":)"
      R"({"type":"Experiment","id":")" +
          server().id +
          R"("},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
          R"("io.modelcontextprotocol/clientCapabilities":{}}}})");
}
BENCHMARK(BM_ToolsCallGetCurrent);

}  // namespace
