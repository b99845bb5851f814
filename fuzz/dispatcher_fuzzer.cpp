// libFuzzer target for the wire protocol: each input is up to kMaxLines newline-separated
// messages fed to Dispatcher::handle_line on one fresh session, so sequences such as
// initialize -> tools/call reach the legacy-era state as well as the stateless current era.
//
// Oracles beyond the sanitizers: handle_line must not throw, every reply and notification must be
// one valid JSON object (valid UTF-8 included), and a reply to a request must carry its id.

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/engine.hpp"
#include "server/dispatcher.hpp"

namespace {

namespace json = boost::json;
using verdict::server::Dispatcher;
using verdict::server::DispatcherOptions;
using verdict::server::Session;

constexpr int kMaxLines = 16;
// Inputs create entities; a fresh engine now and then keeps memory and per-run cost flat.
constexpr int kInputsPerEngine = 512;

[[noreturn]] void fail(std::string_view what, std::string_view line) {
  std::fprintf(stderr, "dispatcher_fuzzer: %.*s\n  line: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(line.size() > 2000 ? 2000 : line.size()), line.data());
  std::abort();
}

// Entities with fixed slugs, so corpus inputs can name them (`"id": "fuzz-draft"`).
void seed(verdict::Engine& engine) {
  auto create = [&](std::string noun, json::object data) {
    return engine.execute({.noun = std::move(noun), .verb = "create", .data = std::move(data)})
        .as_object();
  };
  create("Organization", {{"name", "Fuzz Org"}});
  create("Experiment", {{"name", "Fuzz draft"}});
  auto running = create("Experiment", {{"name", "Fuzz running"}, {"primaryMetric", "signup"}});
  std::string id(running.at("id").as_string());
  engine.execute({.noun = "Experiment",
                  .verb = "addVariant",
                  .id = id,
                  .data = {{"name", "control"}, {"weight", 50}}});
  engine.execute({.noun = "Experiment",
                  .verb = "addVariant",
                  .id = id,
                  .data = {{"name", "treatment"}, {"weight", 50}}});
  engine.execute({.noun = "Experiment", .verb = "start", .id = id});
  create("FeatureFlag", {{"key", "fuzz-flag"}, {"name", "Fuzz flag"}});
  auto gone = create("Contact", {{"name", "Deleted contact"}});
  engine.execute(
      {.noun = "Contact", .verb = "delete", .id = std::string(gone.at("id").as_string())});
}

struct State {
  std::unique_ptr<verdict::Engine> engine;
  std::unique_ptr<Dispatcher> dispatcher;
  int inputs = 0;

  void reset() {
    dispatcher.reset();
    engine = std::make_unique<verdict::Engine>(":memory:");
    seed(*engine);
    DispatcherOptions options;
    options.list_page_size = 2;  // small pages, so cursors are exercised
    dispatcher = std::make_unique<Dispatcher>(*engine, options);
    inputs = 0;
  }
};

json::object check_json_line(std::string_view line) {
  boost::system::error_code ec;
  json::value value = json::parse(line, ec);
  if (ec) fail("reply is not valid JSON: " + ec.message(), line);
  if (!value.is_object()) fail("reply is not an object", line);
  return std::move(value.get_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State state;
  if (!state.engine || ++state.inputs > kInputsPerEngine) state.reset();

  Session session;
  session.transport = "stdio";
  session.actor = "stdio";
  session.notify = [](std::string line) { check_json_line(line); };

  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int lines = 0; lines < kMaxLines && !input.empty(); ++lines) {
    auto newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
    verdict::server::Reply reply;
    try {
      reply = state.dispatcher->handle_line(line, session);
    } catch (...) {
      fail("handle_line threw", line);
    }
    if (reply.line.empty()) continue;
    json::object object = check_json_line(reply.line);
    if (!object.contains("result") && !object.contains("error"))
      fail("neither result nor error", reply.line);
    if (!object.contains("id")) fail("reply without id", reply.line);
  }
  return 0;
}
