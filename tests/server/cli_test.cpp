#include "server/cli.hpp"

#include <gtest/gtest.h>

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

TEST(CliTest, HelpAndVersion) {
  EXPECT_EQ(parse({}).kind, Command::Kind::kHelp);
  EXPECT_EQ(parse({"--version"}).kind, Command::Kind::kVersion);
  auto help = parse({"serve", "--help"});
  EXPECT_EQ(help.kind, Command::Kind::kHelp);
  EXPECT_EQ(help.help_topic, "serve");
  EXPECT_NE(usage("serve").find("--listen"), std::string::npos);
  EXPECT_EQ(parse({"hooks", "check", "dir"}).dirs, std::vector<std::string>{"dir"});
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
