// The overhead Lua hooks add to a verb: Experiment.update with no hooks, with a trivial before and
// after hook, and a direct before() call. Per hook call = (with - without) / 2.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/engine.hpp"
#include "plugins/lua_hook_runner.hpp"

namespace {

namespace json = boost::json;
using verdict::Engine;
using verdict::plugins::HookOptions;
using verdict::plugins::LuaHookRunner;

/// A hooks directory with one trivial before and one trivial after hook on Experiment.update.
class TrivialHooks {
 public:
  TrivialHooks()
      : dir_(std::filesystem::temp_directory_path() /
             ("verdict-hooks-bench-" + std::to_string(::getpid())) / "ops") {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "trivial.lua") << "Experiment.updating(function(e) end)\n"
                                           "Experiment.updated(function(e, ctx) end)\n";
  }
  ~TrivialHooks() { std::filesystem::remove_all(dir_.parent_path()); }
  std::shared_ptr<LuaHookRunner> install(Engine& engine) const {
    auto runner =
        std::make_shared<LuaHookRunner>(engine, HookOptions{.use_shipped = false, .dirs = {dir_}});
    engine.set_hooks(runner);
    return runner;
  }

 private:
  std::filesystem::path dir_;
};

std::string create_experiment(Engine& engine) {
  return std::string(
      engine.execute({.noun = "Experiment", .verb = "create", .data = {{"name", "Bench"}}})
          .at("id")
          .as_string());
}

void run_updates(benchmark::State& state, Engine& engine) {
  auto id = create_experiment(engine);
  for (auto _ : state)
    benchmark::DoNotOptimize(engine.execute(
        {.noun = "Experiment", .verb = "update", .id = id, .data = {{"description", "x"}}}));
}

void BM_UpdateWithoutHooks(benchmark::State& state) {
  Engine engine(":memory:");
  run_updates(state, engine);
}
BENCHMARK(BM_UpdateWithoutHooks);

void BM_UpdateWithTrivialBeforeAndAfterHook(benchmark::State& state) {
  TrivialHooks hooks;
  Engine engine(":memory:");
  auto runner = hooks.install(engine);
  run_updates(state, engine);
}
BENCHMARK(BM_UpdateWithTrivialBeforeAndAfterHook);

/// An engine with the trivial hooks and the arguments for calling them directly.
struct DirectCall {
  TrivialHooks hooks;
  Engine engine{":memory:"};
  std::shared_ptr<LuaHookRunner> runner = hooks.install(engine);
  json::object entity = engine.get("Experiment", create_experiment(engine));
  const verdict::Noun& noun = engine.schema().noun("Experiment");
  verdict::VerbRequest request{.noun = "Experiment", .verb = "update"};
  verdict::HookContext context{noun, *noun.verb("update"), request};
};

void BM_DirectBeforeCall(benchmark::State& state) {
  DirectCall call;
  for (auto _ : state) benchmark::DoNotOptimize(call.runner->before(call.context, call.entity));
}
BENCHMARK(BM_DirectBeforeCall);

void BM_DirectAfterCall(benchmark::State& state) {
  DirectCall call;
  for (auto _ : state)
    benchmark::DoNotOptimize(call.runner->after(call.context, call.entity, call.engine));
}
BENCHMARK(BM_DirectAfterCall);

}  // namespace
