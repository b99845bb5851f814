#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/stats/analysis.hpp"
#include "server/cli.hpp"
#include "server/dispatcher.hpp"
#include "server/server.hpp"
#include "verdict/version.hpp"

namespace {

namespace json = boost::json;
using namespace verdict;
using namespace verdict::server;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int analyze(const std::string& input) {
  std::string text;
  if (input == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream file(input);
    if (!file) {
      std::cerr << "verdict analyze: cannot read " << input << "\n";
      return kExitFailure;
    }
    text.assign(std::istreambuf_iterator<char>(file), {});
  }
  json::parse_options options;
  options.max_depth = 64;
  std::error_code ec;
  json::value document = json::parse(text, ec, {}, options);
  if (ec) {
    std::cerr << "verdict analyze: " << input << " is not valid JSON: " << ec.message() << "\n";
    return kExitFailure;
  }
  auto result = stats::analyze(stats::parse_analysis_input(document));
  std::cout << json::serialize(stats::to_json(result)) << "\n";
  return 0;
}

int serve(const ServeOptions& options) {
  LogLevel level = LogLevel::kInfo;
  parse_log_level(options.log_level, level);
  set_log_level(level);
  Engine engine(options.db);
  log(LogLevel::kInfo, "verdict " + std::string(kVersion) + " serving " + options.db);
  DispatcherOptions dispatcher_options;
  dispatcher_options.token = options.token;
  dispatcher_options.scripts_enabled = options.scripts;
  dispatcher_options.max_message_bytes = options.max_message_bytes;
  Dispatcher dispatcher(engine, dispatcher_options);
  Server server(options, engine, dispatcher, {});
  return server.run();
}

int run(const std::vector<std::string>& args) {
  Command command;
  try {
    command = parse_command_line(args);
  } catch (const Error& error) {
    std::cerr << "verdict: " << error.what() << "\nTry 'verdict --help'.\n";
    return kExitUsage;
  }
  switch (command.kind) {
    case Command::Kind::kHelp:
      std::cout << usage(command.help_topic);
      return 0;
    case Command::Kind::kVersion:
      std::cout << "verdict " << kVersion << "\n";
      return 0;
    case Command::Kind::kAnalyze:
      return analyze(command.input);
    case Command::Kind::kServe:
      return serve(command.serve);
    case Command::Kind::kHooksCheck:
      std::cerr << "verdict hooks check: not available in this build\n";
      return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& error) {
    std::cerr << "verdict: " << error.what() << "\n";
    return kExitFailure;
  }
}
