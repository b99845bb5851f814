#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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

struct ServeOptions {
  std::string db = "verdict.db";
  std::vector<ListenAddress> listen;
  bool stdio = true;
  std::string token;  ///< from --token-file or VERDICT_TOKEN
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
};

struct Command {
  enum class Kind {
    kHelp,
    kVersion,
    kServe,
    kAnalyze,
    kPlan,
    kHooksCheck,
    kCheck
  } kind = Kind::kHelp;
  std::string help_topic;  ///< for kHelp: "" or a subcommand
  ServeOptions serve;
  std::string input;              ///< analyze, plan: a file or "-"; check: the database
  std::vector<std::string> dirs;  ///< hooks check
};

/// Tokens shorter than this are refused wherever they come from (--token-file, VERDICT_TOKEN).
inline constexpr std::size_t kMinTokenChars = 16;

/// Parses argv. Throws verdict::Error(kInvalidArgument) with a message meant for the user;
/// the caller prints it with the usage hint and exits with status 2.
Command parse_command_line(const std::vector<std::string>& args);

/// The help text for the program or a subcommand ("serve", "analyze", "hooks").
std::string usage(const std::string& topic);

}  // namespace verdict::server
