#include "server/cli.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"

namespace verdict::server {

namespace {

[[noreturn]] void usage_error(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

template <typename Number>
Number parse_number(const std::string& option, const std::string& text, Number min, Number max) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
    usage_error(option + ": expected a number from " + std::to_string(min) + " to " +
                std::to_string(max) + ", got '" + text + "'");
  return value;
}

std::string checked_token(std::string token, const std::string& source) {
  if (token.size() < kMinTokenChars)
    usage_error(source + ": the token must be at least " + std::to_string(kMinTokenChars) +
                " characters, got " + std::to_string(token.size()) +
                " (make one with: openssl rand -hex 32)");
  return token;
}

std::string read_token_file(const std::string& path) {
  // As ssh does with private keys: a secret others can read is refused, not used.
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) usage_error("--token-file: cannot read " + path);
  if (status.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    usage_error("--token-file: " + path + " is accessible by group or others (mode " + mode +
                "); run chmod 600 " + path);
  }
  std::ifstream file(path);
  if (!file) usage_error("--token-file: cannot read " + path);
  std::string token;
  std::getline(file, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return checked_token(std::move(token), "--token-file");
}

// Walks the arguments of one subcommand, handing out `--name value` and `--name=value`.
class ArgReader {
 public:
  ArgReader(const std::vector<std::string>& args, std::size_t start) : args_(args), index_(start) {}

  bool next() {
    if (index_ >= args_.size()) return false;
    current_ = args_[index_++];
    inline_value_.reset();
    if (current_.starts_with("--")) {
      if (auto eq = current_.find('='); eq != std::string::npos) {
        inline_value_ = current_.substr(eq + 1);
        current_ = current_.substr(0, eq);
      }
    }
    return true;
  }
  const std::string& current() const { return current_; }
  std::string value() {
    if (inline_value_) return *inline_value_;
    if (index_ >= args_.size()) usage_error(current_ + ": needs a value");
    return args_[index_++];
  }
  void no_value() const {
    if (inline_value_) usage_error(current_ + ": takes no value");
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t index_;
  std::string current_;
  std::optional<std::string> inline_value_;
};

ServeOptions parse_serve(ArgReader& reader, Command& command) {
  ServeOptions options;
  bool token_given = false;
  while (reader.next()) {
    const std::string& arg = reader.current();
    if (arg == "--help" || arg == "-h") {
      command.kind = Command::Kind::kHelp;
      command.help_topic = "serve";
      return options;
    } else if (arg == "--db") {
      options.db = reader.value();
      if (options.db.empty()) usage_error("--db: needs a path");
    } else if (arg == "--listen") {
      options.listen.push_back(parse_listen(reader.value()));
    } else if (arg == "--no-stdio") {
      reader.no_value();
      options.stdio = false;
    } else if (arg == "--token-file") {
      options.token = read_token_file(reader.value());
      token_given = true;
    } else if (arg == "--require-keys") {
      reader.no_value();
      options.require_keys = true;
    } else if (arg == "--project") {
      options.project = reader.value();
      if (options.project.empty()) usage_error("--project: needs a project slug");
    } else if (arg == "--log-level") {
      options.log_level = reader.value();
      static const char* kLevels[] = {"debug", "info", "warning", "error", "off"};
      bool known = false;
      for (const char* level : kLevels) known = known || options.log_level == level;
      if (!known) usage_error("--log-level: expected debug, info, warning, error or off");
    } else if (arg == "--hooks") {
      options.hook_dirs.push_back(reader.value());
    } else if (arg == "--hooks-dir") {
      options.shipped_hooks_dir = reader.value();
      if (options.shipped_hooks_dir.empty()) usage_error("--hooks-dir: needs a directory");
    } else if (arg == "--no-shipped-hooks") {
      reader.no_value();
      options.shipped_hooks = false;
    } else if (arg == "--no-scripts") {
      reader.no_value();
      options.scripts = false;
    } else if (arg == "--max-message-bytes") {
      options.limits.max_message_bytes =
          parse_number<std::size_t>(arg, reader.value(), 1024, std::size_t{1} << 30);
    } else if (arg == "--idle-timeout") {
      options.limits.idle_timeout =
          std::chrono::seconds(parse_number<unsigned>(arg, reader.value(), 1, 86400 * 7));
    } else if (arg == "--tls-cert") {
      options.tls_cert = reader.value();
    } else if (arg == "--tls-key") {
      options.tls_key = reader.value();
    } else if (arg == "--allow-origin") {
      std::string origin = reader.value();
      if (origin != "*" && !origin.starts_with("http://") && !origin.starts_with("https://"))
        usage_error("--allow-origin: expected http://HOST[:PORT], https://HOST[:PORT] or *, got '" +
                    origin + "'");
      options.allow_origins.push_back(std::move(origin));
    } else if (arg == "--conformance") {
      reader.no_value();
      options.conformance = true;
    } else if (arg == "--auth-timeout") {
      options.limits.auth_timeout =
          std::chrono::seconds(parse_number<unsigned>(arg, reader.value(), 1, 3600));
    } else if (arg == "--line-timeout") {
      options.limits.line_timeout =
          std::chrono::seconds(parse_number<unsigned>(arg, reader.value(), 1, 3600));
    } else if (arg == "--max-connections") {
      options.limits.max_connections = parse_number<std::size_t>(arg, reader.value(), 1, 1'000'000);
    } else if (arg == "--readers") {
      options.readers = parse_number<std::size_t>(arg, reader.value(), 0, 64);
    } else if (arg == "--query-timeout") {
      options.query_timeout =
          std::chrono::milliseconds(parse_number<unsigned>(arg, reader.value(), 1, 3'600'000));
    } else {
      usage_error("serve: unknown option '" + arg + "'");
    }
  }
  if (!token_given) {
    if (const char* env = std::getenv("VERDICT_TOKEN"); env && *env)
      options.token = checked_token(env, "VERDICT_TOKEN");
  }
  bool https = std::any_of(options.listen.begin(), options.listen.end(), [](const auto& address) {
    return address.kind == ListenAddress::Kind::kHttps;
  });
  if (https && (options.tls_cert.empty() || options.tls_key.empty()))
    usage_error("--listen https://: needs --tls-cert FILE and --tls-key FILE");
  if (!https && (!options.tls_cert.empty() || !options.tls_key.empty()))
    usage_error("--tls-cert/--tls-key: only used by an https:// listener");
  // A maximal line and one read's worth of the next must fit in the connection's input budget.
  options.limits.input_bytes_per_connection =
      std::max(options.limits.input_bytes_per_connection, 2 * options.limits.max_message_bytes);
  if (!options.stdio && options.listen.empty())
    usage_error("--no-stdio: nothing left to serve; add --listen tcp://127.0.0.1:7878");
  return options;
}

// `verdict keys create|list|revoke` and `verdict projects create|list`, all with --db FILE.
Command parse_access(const std::vector<std::string>& args, const std::string& noun) {
  Command command;
  for (std::size_t i = 2; i < args.size(); ++i)
    if (args[i] == "--help" || args[i] == "-h") {
      command.help_topic = noun;
      return command;
    }
  command.kind = noun == "keys" ? Command::Kind::kKeys : Command::Kind::kProjects;
  auto& access = command.access;
  if (args.size() < 3)
    usage_error(noun + ": name a subcommand (" +
                (noun == "keys" ? "create, list, revoke" : "create, list") + ")");
  access.action = args[2];
  bool known = access.action == "create" || access.action == "list" ||
               (noun == "keys" && access.action == "revoke");
  if (!known) usage_error(noun + ": unknown subcommand '" + access.action + "'");
  std::string where = noun + " " + access.action;
  ArgReader reader(args, 3);
  std::vector<std::string> positional;
  while (reader.next()) {
    const std::string& arg = reader.current();
    if (arg == "--db") {
      command.input = reader.value();
    } else if (arg == "--name" && access.action == "create") {
      access.name = reader.value();
    } else if (arg == "--project" && noun == "keys" && access.action != "revoke") {
      access.project = reader.value();
    } else if (arg == "--role" && noun == "keys" && access.action == "create") {
      access.role = reader.value();
    } else if (arg.starts_with("-")) {
      usage_error(where + ": unknown option '" + arg + "'");
    } else {
      positional.push_back(arg);
    }
  }
  if (command.input.empty()) usage_error(where + ": --db FILE is required");
  std::size_t wanted =
      access.action == "revoke" || (noun == "projects" && access.action == "create");
  if (positional.size() != wanted)
    usage_error(where + (wanted ? ": name exactly one " +
                                      std::string(noun == "keys" ? "key id" : "project slug")
                                : ": takes no arguments besides its options"));
  if (access.action == "revoke") access.key_id = positional[0];
  if (noun == "projects" && access.action == "create") access.project = positional[0];
  if (noun == "keys" && access.action == "create") {
    if (access.project.empty()) usage_error(where + ": --project SLUG is required");
    if (!parse_role(access.role))
      usage_error(where + ": --role must be reader, writer, admin or evaluator");
  }
  return command;
}

}  // namespace

std::size_t default_readers() {
  return std::max(1u, std::thread::hardware_concurrency());
}

ListenAddress parse_listen(const std::string& text) {
  ListenAddress address;
  address.text = text;
  if (text.starts_with("unix:")) {
    address.kind = ListenAddress::Kind::kUnix;
    address.path = text.substr(5);
    if (address.path.empty() || address.path.size() > 100)
      usage_error(
          "--listen: a unix socket path of 1-100 bytes is needed, e.g. unix:/tmp/verdict.sock");
    return address;
  }
  std::string scheme = text.substr(0, text.find("://"));
  if (scheme == "http") {
    address.kind = ListenAddress::Kind::kHttp;
  } else if (scheme == "https") {
    address.kind = ListenAddress::Kind::kHttps;
  } else if (scheme != "tcp") {
    usage_error(
        "--listen: expected tcp://HOST:PORT, http://HOST:PORT, https://HOST:PORT or unix:/PATH, "
        "got '" +
        text + "'");
  }
  std::string rest = text.substr(scheme.size() + 3);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0)
    usage_error("--listen: expected " + scheme + "://HOST:PORT, got '" + text + "'");
  address.host = rest.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']')
    address.host = address.host.substr(1, address.host.size() - 2);
  address.port = parse_number<unsigned short>("--listen port", rest.substr(colon + 1), 0, 65535);
  return address;
}

Command parse_command_line(const std::vector<std::string>& args) {
  Command command;
  if (args.size() < 2) return command;
  const std::string& first = args[1];
  if (first == "--help" || first == "-h" || first == "help") {
    command.help_topic = args.size() > 2 ? args[2] : "";
    return command;
  }
  if (first == "--version" || first == "-V") {
    command.kind = Command::Kind::kVersion;
    return command;
  }
  ArgReader reader(args, 2);
  if (first == "serve") {
    command.kind = Command::Kind::kServe;
    command.serve = parse_serve(reader, command);
    return command;
  }
  if (first == "analyze" || first == "plan") {
    command.kind = first == "plan" ? Command::Kind::kPlan : Command::Kind::kAnalyze;
    while (reader.next()) {
      if (reader.current() == "--help" || reader.current() == "-h") {
        command.kind = Command::Kind::kHelp;
        command.help_topic = first;
        return command;
      }
      if (reader.current() != "--input")
        usage_error(first + ": unknown option '" + reader.current() + "'");
      command.input = reader.value();
    }
    if (command.input.empty()) usage_error(first + ": --input FILE (or - for stdin) is required");
    return command;
  }
  // For check and migrate, `--help` anywhere wins over options that are missing or wrong.
  auto asks_help = [&] {
    return std::any_of(args.begin() + 2, args.end(),
                       [](const std::string& arg) { return arg == "--help" || arg == "-h"; });
  };
  if ((first == "check" || first == "migrate") && asks_help()) {
    command.help_topic = first;
    return command;
  }
  if (first == "check") {
    command.kind = Command::Kind::kCheck;
    while (reader.next()) {
      if (reader.current() != "--db")
        usage_error("check: unknown option '" + reader.current() + "'");
      command.input = reader.value();
    }
    if (command.input.empty()) usage_error("check: --db FILE is required");
    return command;
  }
  if (first == "migrate") {
    command.kind = Command::Kind::kMigrate;
    while (reader.next()) {
      if (reader.current() == "--from")
        command.input = reader.value();
      else if (reader.current() == "--to")
        command.target = reader.value();
      else
        usage_error("migrate: unknown option '" + reader.current() + "'");
    }
    if (command.input.empty()) usage_error("migrate: --from FILE is required");
    if (command.target.empty()) usage_error("migrate: --to postgresql://... is required");
    return command;
  }
  if (first == "hooks") {
    if (args.size() < 3 || args[2] == "--help" || args[2] == "-h") {
      command.help_topic = "hooks";
      return command;
    }
    if (args[2] != "check")
      usage_error("hooks: unknown subcommand '" + args[2] + "' (try: hooks check DIR)");
    command.kind = Command::Kind::kHooksCheck;
    command.dirs.assign(args.begin() + 3, args.end());
    if (command.dirs.empty()) usage_error("hooks check: name at least one directory");
    return command;
  }
  if (first == "keys" || first == "projects") return parse_access(args, first);
  usage_error("unknown command '" + first + "'");
}

std::string usage(const std::string& topic) {
  if (topic == "serve")
    return R"(Usage: verdict serve [options]

Serve MCP (JSON-RPC 2.0, one message per line) on stdio and on the sockets given.

Options:
  --db PATH|URL            SQLite database file (default: ./verdict.db), or a PostgreSQL
                           database shared by several nodes: postgresql://USER@HOST/DB
  --listen URL             also listen on tcp://HOST:PORT, unix:/PATH, or http://HOST:PORT
                           and https://HOST:PORT (MCP Streamable HTTP at /mcp) (repeatable);
                           a non-loopback TCP or HTTP address requires API keys
  --tls-cert FILE          PEM certificate chain for https:// listeners
  --tls-key FILE           PEM private key for https:// listeners
  --allow-origin ORIGIN    an Origin HTTP listeners accept besides their own (repeatable; *: any)
  --conformance            add the MCP conformance suite's fixture tools, resources and prompts
                           (testing only)
  --no-stdio               do not serve on stdin/stdout (daemon use)
  --token-file FILE        a secret that becomes an admin key of the project `default`
                           (or set VERDICT_TOKEN); at least 16 characters; the file must not
                           be accessible by group or others (chmod 600)
  --require-keys           socket and HTTP clients on loopback addresses must present an API
                           key too (without it they act as the default project's operator)
  --project SLUG           the project stdio serves, as its operator (default: default)
  --log-level LEVEL        debug, info, warning, error or off (default: info); logs go to stderr
  --hooks DIR              load Lua hook scripts from DIR after the shipped ones (repeatable)
  --hooks-dir DIR          where the shipped hooks are (default: PREFIX/share/verdict/hooks
                           beside the binary, PREFIX/bin/verdict)
  --no-shipped-hooks       do not load the shipped hooks
  --no-scripts             refuse do {script} everywhere
  --max-message-bytes N    largest accepted message (default: 4194304)
  --idle-timeout SECONDS   close socket connections with no request for this long (default: 300)
  --auth-timeout SECONDS   close a connection that owes the token and has not sent it (default: 10)
  --line-timeout SECONDS   close a connection whose started line does not end in time (default: 30)
  --max-connections N      open socket connections, shared equally by the listeners (default:
                           1024, lowered to fit the open-file limit)
  --query-timeout MS       interrupt a query that runs longer (default: 2000)
  --readers N              threads that answer reads (get, find, ping, resources/read) over
                           read-only connections beside the one writing thread (default: one
                           per core); 0 answers everything on the writing thread
  -h, --help               show this help

Signals: SIGINT/SIGTERM finish in-flight requests and exit; SIGHUP reloads hooks.
)";
  if (topic == "analyze")
    return R"(Usage: verdict analyze --input FILE

Analyze sufficient statistics per variant (index 0 is the control) and print the result as JSON.
FILE is a JSON object like the `input` objects of gbstats-reference.json; `-` reads stdin.
Impossible sums (sum_squares below sum^2/n, n = 0 with a sum, a CUPED correlation beyond 1,
overflowing numbers) are refused with the field named; the output never holds NaN or Infinity.
)";
  if (topic == "check")
    return R"(Usage: verdict check --db FILE

Run SQLite's full integrity check (PRAGMA integrity_check) on a Verdict database, print "ok" or
the problems found, and exit with status 1 if there are any. `verdict serve` runs the quicker
PRAGMA quick_check at every start and refuses a damaged file.
)";
  if (topic == "migrate")
    return R"(Usage: verdict migrate --from FILE --to postgresql://USER@HOST/DATABASE

Copy a SQLite database into an empty PostgreSQL database (or an existing empty schema: add
?options=-csearch_path%3DSCHEMA to the URL): every table, the event log with its sequence
numbers, exposures, statistics, projects and keys. The file is first brought to the current
schema. A target that already holds rows in any Verdict table is refused, naming the table; the
rows are written in one transaction, so a failed copy leaves the target as it was. Then both are
read back and compared row by row; the tables and their rows are printed, then "verified", or the
first difference, with exit status 1. Stop `verdict serve` on the file first: the copy holds its
write lock.
)";
  if (topic == "plan")
    return R"(Usage: verdict plan --input FILE

Plan an experiment and print the result as JSON; `-` reads stdin. FILE is one of:
  {"metricType": "proportion", "baseline": 0.1, "mde": 0.05, "dailyTraffic": 2000, ...}
      sample size per arm, MDE, power and days for the fixed-horizon and the sequential test
      (fields: metricType, baseline, stddev, variants, alpha, power, mde, sampleSizePerArm,
      sequentialTuningParameter, dailyTraffic, trafficAllocation; see docs/statistics.md)
  {"kind": "calculator", "params": {...}}
      GrowthBook's power calculator (powerMetricWeeks) on its PowerCalculationParams
  {"kind": "mid_experiment", "variants": [...], "target_mde": 0.05, ...}
      gbstats' mid-experiment power: how many more units a running comparison needs
)";
  if (topic == "keys")
    return R"(Usage: verdict keys create --db FILE --project SLUG --role ROLE [--name NAME]
       verdict keys list --db FILE [--project SLUG]
       verdict keys revoke --db FILE KEY_ID

API keys: clients present one as Authorization: Bearer KEY or X-API-Key: KEY over HTTP, and
with {"method":"auth","params":{"token":KEY}} or _meta["io.verdict/token"] on sockets. A key
acts in its project only, with its role:
  reader     find, get, analyze, plan, summary, resources and prompts
  writer     also every other verb, assign and track
  admin      also scripts, keys and projects
  evaluator  assign and FeatureFlag evaluate only (the key an application embeds)
create prints the secret once, alone on the last line; only its SHA-256 is stored. A revoked
key stops working on open connections at their next request.
)";
  if (topic == "projects")
    return R"(Usage: verdict projects create --db FILE SLUG [--name NAME]
       verdict projects list --db FILE

Projects isolate tenants: every entity, event, exposure and statistic belongs to one, and a key
sees only its own. The project `default` always exists; data from before projects is in it.
)";
  if (topic == "hooks")
    return R"(Usage: verdict hooks check DIR...

Load every *.lua file in the directories in a sandbox, report syntax and API errors with file and
line, and exit with status 1 if any script has a problem.
)";
  return R"(Usage: verdict <command> [options]

Verdict: an experimentation server for AI agents (MCP), applications and Lua hooks.

Commands:
  serve           serve MCP over stdio and sockets (see: verdict serve --help)
  analyze         analyze experiment statistics from a JSON file
  plan            sample size, MDE, power and duration of an experiment
  hooks check     validate Lua hook scripts without serving
  check           check a database file's integrity (verdict check --db FILE)
  migrate         copy a SQLite database into PostgreSQL (see: verdict migrate --help)
  projects        create and list projects (see: verdict projects --help)
  keys            create, list and revoke API keys (see: verdict keys --help)

Options:
  -h, --help      show this help (or: verdict help COMMAND)
  -V, --version   print the version

Exit status: 0 success, 1 runtime failure, 2 usage error.
)";
}

}  // namespace verdict::server
