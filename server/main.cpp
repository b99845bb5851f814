#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "core/access/access_nouns.hpp"
#include "core/checkpointer.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/integrity.hpp"
#include "core/json_style.hpp"
#include "core/log.hpp"
#include "core/migrate.hpp"
#include "core/stats/analysis.hpp"
#include "core/stats/power.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "plugins/check_hooks.hpp"
#include "plugins/lua_hook_runner.hpp"
#include "plugins/run_script.hpp"
#include "server/cli.hpp"
#include "server/dispatcher.hpp"
#include "server/install_paths.hpp"
#include "server/server.hpp"
#include "verdict/version.hpp"

namespace {

namespace json = boost::json;
using namespace verdict;
using namespace verdict::server;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Reads and parses the JSON document of `verdict analyze` and `verdict plan`; nullopt after
// printing why it could not.
std::optional<json::value> read_input(const std::string& command, const std::string& input) {
  std::string text;
  if (input == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream file(input);
    if (!file) {
      std::cerr << "verdict " << command << ": cannot read " << input << "\n";
      return std::nullopt;
    }
    text.assign(std::istreambuf_iterator<char>(file), {});
  }
  json::parse_options options;
  options.max_depth = 64;
  std::error_code ec;
  json::value document = json::parse(text, ec, {}, options);
  if (ec) {
    std::cerr << "verdict " << command << ": " << input << " is not valid JSON: " << ec.message()
              << "\n";
    return std::nullopt;
  }
  return document;
}

int analyze(const std::string& input) {
  auto document = read_input("analyze", input);
  if (!document) return kExitFailure;
  auto result = stats::analyze(stats::parse_analysis_input(*document));
  // The server's naming and number format, so output and stored results read the same.
  std::cout << to_json_text(camel_case_keys(stats::to_json(result))) << "\n";
  return 0;
}

int plan(const std::string& input) {
  auto document = read_input("plan", input);
  if (!document) return kExitFailure;
  std::cout << to_json_text(stats::plan_from_json(*document)) << "\n";
  return 0;
}

int serve(ServeOptions options) {
  LogLevel level = LogLevel::kInfo;
  parse_log_level(options.log_level, level);
  set_log_level(level);
  // A damaged file would answer some requests and fail others, or lose writes: refuse it whole.
  // PostgreSQL checks its own pages as it reads them.
  if (!storage::is_postgres(options.db)) {
    std::string file = storage::sqlite_path(options.db);
    if (auto problems = check_integrity(file, IntegrityCheck::kQuick); !problems.empty()) {
      std::cerr << "verdict: " << file << " is damaged (PRAGMA quick_check: " << problems.front()
                << (problems.size() > 1 ? ", ..." : "") << "); not serving it.\nTo recover, "
                << recovery_advice(file) << ".\n";
      return kExitFailure;
    }
  }
  plugins::HookOptions hook_options;
  hook_options.use_shipped = options.shipped_hooks;
  if (!options.shipped_hooks_dir.empty()) {
    hook_options.shipped_dir = options.shipped_hooks_dir;
  } else if (auto shipped = shipped_hooks_dir()) {
    hook_options.shipped_dir = *shipped;
  } else if (options.shipped_hooks) {
    std::cerr << "verdict: the shipped hooks are not installed beside this binary "
                 "(PREFIX/share/verdict/hooks); pass --hooks-dir DIR or --no-shipped-hooks\n";
    return kExitFailure;
  }
  if (options.shipped_hooks && !std::filesystem::is_directory(hook_options.shipped_dir)) {
    std::cerr << "verdict: --hooks-dir: " << hook_options.shipped_dir.string()
              << " is not a directory\n";
    return kExitUsage;
  }
  Engine engine(options.db);
  engine.store().db().set_query_timeout(options.query_timeout);
  try {
    options.stdio_caller = engine.keys().operator_of(options.project);
  } catch (const Error& error) {
    std::cerr << "verdict: --project: " << error.what() << "\n";
    return kExitUsage;
  }
  // Only a SQLite file has a WAL to copy back (path() is empty for ":memory:" and PostgreSQL).
  std::optional<Checkpointer> checkpointer;
  if (std::string file = engine.store().db().path(); !file.empty())
    checkpointer.emplace(file, std::chrono::milliseconds(250));
  hook_options.dirs.assign(options.hook_dirs.begin(), options.hook_dirs.end());
  auto hooks = std::make_shared<plugins::LuaHookRunner>(engine, hook_options);
  engine.set_hooks(hooks);
  log(LogLevel::kInfo,
      "verdict " + std::string(kVersion) + " serving " + engine.store().db().location() + " with " +
          std::to_string(hooks->hook_count()) + " hooks from " +
          std::to_string(hooks->scripts().size()) + " scripts" +
          (options.shipped_hooks ? " (shipped hooks: " + hook_options.shipped_dir.string() + ")"
                                 : std::string()));
  DispatcherOptions dispatcher_options;
  dispatcher_options.token = options.token;
  dispatcher_options.scripts_enabled = options.scripts;
  dispatcher_options.max_message_bytes = options.limits.max_message_bytes;
  dispatcher_options.conformance = options.conformance;
  Dispatcher dispatcher(
      engine, dispatcher_options,
      [](Engine& engine, const std::string& source, const std::string& actor,
         const Caller& caller) { return plugins::run_script(engine, source, actor, {}, caller); });
  // SIGHUP: the new hook set replaces the old one whole, or the old one stays.
  Server server(options, engine, dispatcher, [hooks] {
    try {
      hooks->reload();
      log(LogLevel::kInfo, "hooks reloaded: " + std::to_string(hooks->hook_count()) + " hooks");
    } catch (const std::exception& error) {
      log(LogLevel::kError,
          std::string("hook reload failed, keeping the old hooks: ") + error.what());
    }
  });
  return server.run();
}

int check_database(const std::string& location) {
  if (storage::is_postgres(location)) {
    // The URL is not echoed: it may carry a password.
    std::cerr << "verdict check: --db: a PostgreSQL database has no file to check; verdict check "
                 "reads SQLite files only (PostgreSQL checks its own pages, see amcheck)\n";
    return kExitUsage;
  }
  std::string path = storage::sqlite_path(location);
  if (path != ":memory:" && !std::filesystem::exists(path)) {
    std::cerr << "verdict check: " << path << " does not exist\n";
    return kExitFailure;
  }
  auto problems = check_integrity(path, IntegrityCheck::kFull);
  if (problems.empty()) {
    std::cout << "ok\n";
    return 0;
  }
  for (const auto& problem : problems) std::cout << problem << "\n";
  std::cerr << "verdict check: " << path << " is damaged. To recover, " << recovery_advice(path)
            << ".\n";
  return kExitFailure;
}

// `verdict projects ...` and `verdict keys ...`: the same tables a server on the file reads; a
// running server sees a revocation at its connections' next request. Changes run as the verbs
// `do` runs (Project.create, Key.create, Key.revoke) by the project's operator, so the event log
// records them, by the actor `cli`.
int manage_access(const Command& command) {
  Engine engine(command.input);
  access::KeyStore& keys = engine.keys();
  const auto& access = command.access;
  auto run = [&](std::string noun, std::string verb, std::string id, json::object data,
                 std::string_view project) {
    return engine
        .execute({.noun = std::move(noun),
                  .verb = std::move(verb),
                  .id = std::move(id),
                  .data = std::move(data),
                  .actor = access::kShellActor,
                  .caller = keys.operator_of(project)})
        .as_object();
  };
  auto text = [](const json::object& object, std::string_view key) {
    return std::string(object.at(key).as_string());
  };
  if (command.kind == Command::Kind::kProjects) {
    if (access.action == "create") {
      auto project = run("Project", "create", "", {{"slug", access.project}, {"name", access.name}},
                         kDefaultProjectSlug);
      std::cout << "project " << text(project, "slug") << " (" << text(project, "id")
                << ") created\n";
      return 0;
    }
    for (const auto& project : keys.projects())
      std::cout << project.id << "  " << project.slug << "  " << project.name << "  "
                << project.created_at << "\n";
    return 0;
  }
  if (access.action == "create") {
    auto created =
        run("Key", "create", "", {{"role", access.role}, {"name", access.name}}, access.project);
    std::cout << "key " << text(created, "id") << " (" << text(created, "name") << "), role "
              << text(created, "role") << " in project " << text(created, "project")
              << "\nThe secret is shown only now; store it (only its SHA-256 is kept):\n"
              << text(created, "secret") << "\n";
    return 0;
  }
  if (access.action == "revoke") {
    // The key's own project: Key.revoke, like every verb, finds entities in its caller's.
    std::string project;
    for (const auto& key : keys.keys())
      if (key.id == access.key_id) project = key.project_id;
    if (project.empty())
      throw Error(ErrorCode::kNotFound, "id: no key '" + access.key_id + "'", "id");
    auto key = run("Key", "revoke", access.key_id, {}, project);
    std::cout << "key " << text(key, "id") << " (" << text(key, "name") << ") revoked at "
              << text(key, "revokedAt") << "\n";
    return 0;
  }
  for (const auto& key : keys.keys(access.project))
    std::cout << key.id << "  " << key.project_slug << "  " << to_string(key.role) << "  "
              << key.name << "  " << key.hint << "...  " << key.created_at << "  "
              << (key.revoked_at.empty() ? "active" : "revoked " + key.revoked_at) << "\n";
  return 0;
}

// `verdict migrate`: the report goes to stdout only once the copy is committed and verified;
// the target is named by Connection::location(), without its password.
int migrate(const Command& command) {
  try {
    storage::CopyReport report = storage::copy_store(command.input, command.target);
    std::cout << "copied " << report.from << " into " << report.to << "\n";
    std::int64_t total = 0;
    for (const auto& table : report.tables) {
      std::string name = table.table + (table.created ? " (created)" : "");
      std::cout << "  " << name << std::string(name.size() < 32 ? 32 - name.size() : 1, ' ')
                << table.rows << "\n";
      total += table.rows;
    }
    std::cout << "verified: " << report.tables.size() << " tables, " << total
              << " rows equal in both\n";
    return 0;
  } catch (const Error& error) {
    std::cerr << "verdict migrate: " << error.what() << "\n";
    return error.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  } catch (const std::exception& error) {
    std::cerr << "verdict migrate: " << error.what() << "\n";
    return kExitFailure;
  }
}

int check_hooks(const std::vector<std::string>& dirs) {
  auto problems =
      plugins::check_hooks(std::vector<std::filesystem::path>(dirs.begin(), dirs.end()));
  for (const auto& problem : problems) std::cerr << problem << "\n";
  if (problems.empty()) std::cout << "hooks ok\n";
  return problems.empty() ? 0 : kExitFailure;
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
    case Command::Kind::kPlan:
      return plan(command.input);
    case Command::Kind::kServe:
      return serve(command.serve);
    case Command::Kind::kHooksCheck:
      return check_hooks(command.dirs);
    case Command::Kind::kCheck:
      return check_database(command.input);
    case Command::Kind::kMigrate:
      return migrate(command);
    case Command::Kind::kKeys:
    case Command::Kind::kProjects:
      try {
        return manage_access(command);
      } catch (const Error& error) {
        std::cerr << "verdict " << (command.kind == Command::Kind::kKeys ? "keys" : "projects")
                  << " " << command.access.action << ": " << error.what() << "\n";
        return error.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
      }
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
