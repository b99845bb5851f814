#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace verdict::server {

/// A socket to listen on, parsed from `tcp://HOST:PORT` or `unix:/path`.
struct ListenAddress {
  enum class Kind { kTcp, kUnix } kind = Kind::kTcp;
  std::string host;  ///< tcp only
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
  bool shipped_hooks = true;
  bool scripts = true;
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  unsigned idle_timeout_seconds = 300;
};

struct Command {
  enum class Kind { kHelp, kVersion, kServe, kAnalyze, kPlan, kHooksCheck } kind = Kind::kHelp;
  std::string help_topic;  ///< for kHelp: "" or a subcommand
  ServeOptions serve;
  std::string input;              ///< analyze, plan: a file or "-"
  std::vector<std::string> dirs;  ///< hooks check
};

/// Parses argv. Throws verdict::Error(kInvalidArgument) with a message meant for the user;
/// the caller prints it with the usage hint and exits with status 2.
Command parse_command_line(const std::vector<std::string>& args);

/// The help text for the program or a subcommand ("serve", "analyze", "hooks").
std::string usage(const std::string& topic);

}  // namespace verdict::server
