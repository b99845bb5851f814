#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/access/caller.hpp"
#include "server/limits.hpp"

namespace verdict::server {

/// A socket to listen on, parsed from `tcp://HOST:PORT`, `unix:/path`, `http://HOST:PORT` or
/// `https://HOST:PORT`.
struct ListenAddress {
  enum class Kind { kTcp, kUnix, kHttp, kHttps } kind = Kind::kTcp;
  std::string host;  ///< tcp, http and https
  unsigned short port = 0;
  std::string path;  ///< unix only
  std::string text;  ///< as given
};

/// Parses a --listen value; throws verdict::Error naming `--listen` on a bad address.
ListenAddress parse_listen(const std::string& text);

/// One reader thread per core, at least one.
std::size_t default_readers();

struct ServeOptions {
  std::string db = "verdict.db";
  std::vector<ListenAddress> listen;
  bool stdio = true;
  std::string token;  ///< from --token-file or VERDICT_TOKEN; an admin key of `default`
  /// Socket and HTTP clients must present an API key on loopback addresses too.
  bool require_keys = false;
  /// --project: the project stdio serves, as its local operator (an admin).
  std::string project = std::string(kDefaultProjectSlug);
  /// The local operator of `project`, resolved against the database before serving.
  Caller stdio_caller;
  std::string log_level = "info";
  std::vector<std::string> hook_dirs;
  std::string shipped_hooks_dir;  ///< --hooks-dir; empty: beside the binary (install_paths.hpp)
  bool shipped_hooks = true;
  bool scripts = true;
  std::string tls_cert;  ///< PEM certificate chain for https:// listeners
  std::string tls_key;   ///< PEM private key for https:// listeners
  /// Origins HTTP listeners accept besides their own (DNS rebinding protection); "*": any.
  std::vector<std::string> allow_origins;
  /// Registers the fixtures the MCP conformance suite calls; never for normal serving.
  bool conformance = false;
  ConnectionLimits limits;  ///< --max-message-bytes, --idle-timeout, --max-connections, ...
  /// Longest a single SQL statement may run before it is interrupted (--query-timeout).
  std::chrono::milliseconds query_timeout{std::chrono::seconds(2)};
  /// Threads that answer reads (get, find, ping, resources/read) over read-only connections
  /// beside the engine thread (--readers); 0 answers everything on the engine thread.
  std::size_t readers = default_readers();
};

struct Command {
  enum class Kind {
    kHelp,
    kVersion,
    kServe,
    kAnalyze,
    kPlan,
    kHooksCheck,
    kCheck,
    kMigrate,  ///< migrate --from FILE --to URL
    kKeys,     ///< keys create | list | revoke
    kProjects  ///< projects create | list
  } kind = Kind::kHelp;
  std::string help_topic;  ///< for kHelp: "" or a subcommand
  ServeOptions serve;
  std::string input;   ///< analyze, plan: a file or "-"; check: the database; migrate: --from
  std::string target;  ///< migrate: --to
  std::vector<std::string> dirs;  ///< hooks check
  /// keys and projects: the subcommand and its options (`input` is the database).
  struct Access {
    std::string action;   ///< create | list | revoke
    std::string project;  ///< --project (keys), or the slug to create (projects create)
    std::string role;     ///< keys create --role
    std::string name;     ///< --name
    std::string key_id;   ///< keys revoke KEY_ID
  } access;
};

/// Tokens shorter than this are refused wherever they come from (--token-file, VERDICT_TOKEN).
inline constexpr std::size_t kMinTokenChars = 16;

/// Parses argv. Throws verdict::Error(kInvalidArgument) with a message meant for the user;
/// the caller prints it with the usage hint and exits with status 2.
Command parse_command_line(const std::vector<std::string>& args);

/// The help text for the program or a subcommand ("serve", "analyze", "hooks").
std::string usage(const std::string& topic);

}  // namespace verdict::server
