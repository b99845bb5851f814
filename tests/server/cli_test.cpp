#include "server/cli.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace verdict::server {
namespace {

Command parse(std::vector<std::string> args) {
  args.insert(args.begin(), "verdict");
  return parse_command_line(args);
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(CliTest, ServeDefaultsToStdioAndVerdictDb) {
  auto command = parse({"serve"});
  EXPECT_EQ(command.kind, Command::Kind::kServe);
  EXPECT_EQ(command.serve.db, "verdict.db");
  EXPECT_TRUE(command.serve.stdio);
  EXPECT_TRUE(command.serve.listen.empty());
}

TEST(CliTest, ServeTakesRepeatableListenAndEqualsForm) {
  auto command = parse({"serve", "--db=/tmp/x.db", "--listen", "tcp://127.0.0.1:7878",
                        "--listen=unix:/tmp/v.sock", "--no-stdio", "--hooks", "a", "--hooks", "b"});
  EXPECT_EQ(command.serve.db, "/tmp/x.db");
  ASSERT_EQ(command.serve.listen.size(), 2u);
  EXPECT_EQ(command.serve.listen[0].port, 7878);
  EXPECT_EQ(command.serve.listen[1].kind, ListenAddress::Kind::kUnix);
  EXPECT_EQ(command.serve.listen[1].path, "/tmp/v.sock");
  EXPECT_FALSE(command.serve.stdio);
  EXPECT_EQ(command.serve.hook_dirs, (std::vector<std::string>{"a", "b"}));
}

TEST(CliTest, BadInputNamesTheOption) {
  EXPECT_NE(error_of({"serve", "--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--listen", "http://x"}).find("--listen"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--listen", "tcp://127.0.0.1:99999"}).find("port"),
            std::string::npos);
  EXPECT_NE(error_of({"serve", "--db"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--no-stdio"}).find("nothing left to serve"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--log-level", "loud"}).find("--log-level"), std::string::npos);
  EXPECT_NE(error_of({"frobnicate"}).find("unknown command"), std::string::npos);
  EXPECT_NE(error_of({"analyze"}).find("--input"), std::string::npos);
}

TEST(CliTest, HttpListenersAndTheirOptions) {
  auto command = parse({"serve", "--listen", "http://127.0.0.1:8080", "--listen",
                        "https://[::1]:8443", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                        "--allow-origin", "https://app.example.com", "--conformance"});
  ASSERT_EQ(command.serve.listen.size(), 2u);
  EXPECT_EQ(command.serve.listen[0].kind, ListenAddress::Kind::kHttp);
  EXPECT_EQ(command.serve.listen[0].port, 8080);
  EXPECT_EQ(command.serve.listen[1].kind, ListenAddress::Kind::kHttps);
  EXPECT_EQ(command.serve.listen[1].host, "::1");
  EXPECT_EQ(command.serve.tls_cert, "c.pem");
  EXPECT_EQ(command.serve.allow_origins, std::vector<std::string>{"https://app.example.com"});
  EXPECT_TRUE(command.serve.conformance);
  EXPECT_FALSE(parse({"serve"}).serve.conformance) << "fixtures never by default";

  EXPECT_EQ(error_of({"serve", "--listen", "https://127.0.0.1:1"}),
            "--listen https://: needs --tls-cert FILE and --tls-key FILE");
  EXPECT_EQ(error_of({"serve", "--listen", "http://127.0.0.1:1", "--tls-cert", "c.pem"}),
            "--tls-cert/--tls-key: only used by an https:// listener");
  EXPECT_EQ(error_of({"serve", "--allow-origin", "evil.example"}),
            "--allow-origin: expected http://HOST[:PORT], https://HOST[:PORT] or *, got "
            "'evil.example'");
  EXPECT_NE(error_of({"serve", "--listen", "ftp://x:1"}).find("http://HOST:PORT"),
            std::string::npos);
}

// Issue 12: the connection budgets and the query budget are options.
TEST(CliTest, BudgetsAreOptions) {
  auto command = parse({"serve", "--auth-timeout", "3", "--line-timeout=4", "--max-connections",
                        "50", "--query-timeout", "250", "--max-message-bytes", "8388608"});
  const auto& limits = command.serve.limits;
  EXPECT_EQ(limits.auth_timeout, std::chrono::seconds(3));
  EXPECT_EQ(limits.line_timeout, std::chrono::seconds(4));
  EXPECT_EQ(limits.max_connections, 50u);
  EXPECT_EQ(command.serve.query_timeout, std::chrono::milliseconds(250));
  // A maximal message must fit in a connection's input budget.
  EXPECT_GE(limits.input_bytes_per_connection, 2 * limits.max_message_bytes);
  EXPECT_NE(error_of({"serve", "--query-timeout", "0"}).find("--query-timeout"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--max-connections", "x"}).find("--max-connections"),
            std::string::npos);
}

// Issue 20: reader threads, one per core unless --readers says otherwise (0: none).
TEST(CliTest, ReadersAreAnOption) {
  EXPECT_EQ(parse({"serve"}).serve.readers, default_readers());
  EXPECT_GE(default_readers(), 1u);
  EXPECT_EQ(parse({"serve", "--readers", "0"}).serve.readers, 0u);
  EXPECT_EQ(parse({"serve", "--readers=3"}).serve.readers, 3u);
  EXPECT_NE(error_of({"serve", "--readers", "65"}).find("--readers"), std::string::npos);
  EXPECT_NE(error_of({"serve", "--readers", "many"}).find("--readers"), std::string::npos);
  EXPECT_NE(usage("serve").find("--readers N"), std::string::npos);
}

TEST(CliTest, HelpAndVersion) {
  EXPECT_EQ(parse({}).kind, Command::Kind::kHelp);
  EXPECT_EQ(parse({"--version"}).kind, Command::Kind::kVersion);
  auto help = parse({"serve", "--help"});
  EXPECT_EQ(help.kind, Command::Kind::kHelp);
  EXPECT_EQ(help.help_topic, "serve");
  EXPECT_NE(usage("serve").find("--listen"), std::string::npos);
  EXPECT_EQ(parse({"hooks", "check", "dir"}).dirs, std::vector<std::string>{"dir"});
}

// A token file written the way the test writes it; removed at the end of the test.
class TokenFile {
 public:
  TokenFile(const std::string& token, std::filesystem::perms perms)
      : path_(std::filesystem::temp_directory_path() /
              ("verdict-token-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    std::ofstream(path_) << token << "\n";
    std::filesystem::permissions(path_, perms);
  }
  ~TokenFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

constexpr auto kOwnerOnly =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

TEST(CliTest, TokenFileMustBeLongAndPrivate) {
  TokenFile good("0123456789abcdef", kOwnerOnly);
  EXPECT_EQ(parse({"serve", "--token-file", good.path()}).serve.token, "0123456789abcdef");
  TokenFile short_token("0123456789abcde", kOwnerOnly);
  EXPECT_NE(error_of({"serve", "--token-file", short_token.path()})
                .find("--token-file: the token must be at least 16 characters, got 15"),
            std::string::npos);
  // Regression: a token file anyone could read was accepted; ssh refuses such keys.
  for (auto open : {std::filesystem::perms::group_read, std::filesystem::perms::others_read}) {
    TokenFile readable("0123456789abcdef", kOwnerOnly | open);
    std::string error = error_of({"serve", "--token-file", readable.path()});
    EXPECT_NE(error.find("accessible by group or others"), std::string::npos) << error;
    EXPECT_NE(error.find("chmod 600 " + readable.path()), std::string::npos) << error;
  }
}

// Regression: VERDICT_TOKEN accepted a 1-character token that --token-file refused.
TEST(CliTest, EnvironmentTokenFollowsTheSameRule) {
  ::setenv("VERDICT_TOKEN", "x", 1);
  std::string error = error_of({"serve"});
  ::setenv("VERDICT_TOKEN", "0123456789abcdef0", 1);
  std::string token = parse({"serve"}).serve.token;
  ::unsetenv("VERDICT_TOKEN");
  EXPECT_NE(error.find("VERDICT_TOKEN: the token must be at least 16 characters, got 1"),
            std::string::npos)
      << error;
  EXPECT_EQ(token, "0123456789abcdef0");
}

TEST(CliTest, CheckAndHooksDir) {
  auto check = parse({"check", "--db", "x.db"});
  EXPECT_EQ(check.kind, Command::Kind::kCheck);
  EXPECT_EQ(check.input, "x.db");
  EXPECT_NE(error_of({"check"}).find("--db FILE is required"), std::string::npos);
  auto serve = parse({"serve", "--hooks-dir", "/opt/hooks", "--hooks", "mine"});
  EXPECT_EQ(serve.serve.shipped_hooks_dir, "/opt/hooks");
  EXPECT_EQ(serve.serve.hook_dirs, std::vector<std::string>{"mine"});
}

TEST(CliTest, MigrateNeedsASourceFileAndATargetUrl) {
  auto migrate = parse({"migrate", "--from", "old.db", "--to", "postgresql://u@h/db"});
  EXPECT_EQ(migrate.kind, Command::Kind::kMigrate);
  EXPECT_EQ(migrate.input, "old.db");
  EXPECT_EQ(migrate.target, "postgresql://u@h/db");
  EXPECT_NE(error_of({"migrate", "--to", "postgresql://u@h/db"}).find("--from FILE is required"),
            std::string::npos);
  EXPECT_NE(error_of({"migrate", "--from", "old.db"}).find("--to postgresql://... is required"),
            std::string::npos);
  EXPECT_NE(error_of({"migrate", "--db", "x"}).find("migrate: unknown option '--db'"),
            std::string::npos);
  EXPECT_EQ(parse({"migrate", "--from", "old.db", "--help"}).help_topic, "migrate");
  EXPECT_NE(usage("migrate").find("verified"), std::string::npos);
  EXPECT_NE(usage("").find("migrate"), std::string::npos);
}

TEST(CliTest, PlanReadsAnInputFileLikeAnalyze) {
  auto command = parse({"plan", "--input=plan.json"});
  EXPECT_EQ(command.kind, Command::Kind::kPlan);
  EXPECT_EQ(command.input, "plan.json");
  EXPECT_NE(error_of({"plan"}).find("plan: --input"), std::string::npos);
  EXPECT_NE(error_of({"plan", "--mde", "1"}).find("plan: unknown option '--mde'"),
            std::string::npos);
  EXPECT_EQ(parse({"plan", "--help"}).help_topic, "plan");
  EXPECT_NE(usage("plan").find("\"kind\": \"calculator\""), std::string::npos);
  EXPECT_NE(usage("").find("plan"), std::string::npos);
}

TEST(CliTest, LoopbackDetection) {
  EXPECT_TRUE(parse_listen("tcp://[::1]:1").host == "::1");
  EXPECT_EQ(parse_listen("tcp://localhost:80").port, 80);
}

}  // namespace
}  // namespace verdict::server
