#include "server/http/http_listener.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <fstream>

#include <poll.h>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"

// The HTTP listener against hostile and unauthorised clients, as a child process: malformed
// request lines and headers, huge headers, oversized and never-ending bodies, wrong content
// types, 10,000 requests on one keep-alive connection, clients that never read, missing
// tokens and foreign origins. Each gets its status and the server stays up, its memory flat.

namespace verdict::server::http {
namespace {

using test_support::HttpClient;
using test_support::ServerProcess;
using verb = beast_http::verb;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kRssIsMeaningful = false;  // sanitizer quarantines make RSS say nothing
#else
constexpr bool kRssIsMeaningful = true;
#endif

const std::string kPing =
    R"({"jsonrpc":"2.0","id":1,"method":"get","params":{"type":"Experiment","id":"experiment_00000000"}})";

class HttpListenerTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}, std::string host = "127.0.0.1") {
    port_ = test_support::free_tcp_port();
    db_ = test_support::temp_path("http_listener", "db");
    test_support::remove_database(db_);
    std::vector<std::string> args{
        "serve",       "--db",     db_,
        "--no-stdio",  "--listen", "http://" + host + ":" + std::to_string(port_),
        "--log-level", "error",    "--max-message-bytes",
        "4096"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_.emplace(args);
  }
  void TearDown() override { test_support::remove_database(db_); }

  // The server still answers a well-formed request on a fresh connection.
  void expect_alive() {
    ASSERT_TRUE(server_->running());
    HttpClient client(port_);
    auto response =
        client.request(verb::post, "/mcp", kPing, {{"Content-Type", "application/json"}});
    ASSERT_TRUE(response) << "no answer after the hostile client";
    EXPECT_EQ(response->result_int(), 200u);
  }

  int status_of_raw(const std::string& bytes) {
    HttpClient client(port_);
    EXPECT_TRUE(client.send_raw(bytes));
    auto response = client.read();
    return response ? static_cast<int>(response->result_int()) : 0;
  }

  // The status of a well-formed MCP POST carrying `headers` besides its Content-Type.
  int status_with(std::map<std::string, std::string> headers) {
    headers["Content-Type"] = "application/json";
    HttpClient client(port_);
    auto response = client.request(verb::post, "/mcp", kPing, headers);
    return response ? static_cast<int>(response->result_int()) : 0;
  }

  int port_ = 0;
  std::string db_;
  std::optional<ServerProcess> server_;
};

TEST_F(HttpListenerTest, MalformedRequestsGet400AndTheServerStaysUp) {
  start();
  for (std::string bytes :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /mcp HTTP/9.9\r\n\r\n"),
        std::string("GET /mcp HTTP/1.1\r\nBad Header Line\r\n\r\n"),
        std::string("POST /mcp HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\nab"),
        std::string("GET /mcp HTTP/1.1\r\nHost: \x01\x02\r\n\r\n")}) {
    EXPECT_EQ(status_of_raw(bytes), 400) << bytes;
  }
  expect_alive();
}

TEST_F(HttpListenerTest, HugeHeadersGet431) {
  start();
  std::string bytes =
      "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(status_of_raw(bytes), 431);
  expect_alive();
}

TEST_F(HttpListenerTest, BodiesOverTheMessageLimitGet413) {
  start();
  HttpClient client(port_);
  auto response = client.request(verb::post, "/mcp", std::string(8192, ' '),
                                 {{"Content-Type", "application/json"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413u);
  // Announced but not sent: refused from the header alone.
  EXPECT_EQ(status_of_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                          "application/json\r\nContent-Length: 99999999\r\n\r\n"),
            413);
  expect_alive();
}

TEST_F(HttpListenerTest, ChunkedBodyThatNeverEndsIsCutAtTheLimit) {
  start();
  HttpClient client(port_);
  ASSERT_TRUE(
      client.send_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "400\r\n" + std::string(1024, ' ') + "\r\n";
  // 64 KiB against a 4 KiB limit, and no terminating chunk: the answer can only come from
  // the limit, since the body never ends.
  for (int sent = 0; sent < 64 && client.send_raw(chunk); ++sent) {
  }
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413u);
  expect_alive();
}

TEST_F(HttpListenerTest, TenThousandRequestsOnOneKeepAliveConnectionWithFlatMemory) {
  start();
  HttpClient client(port_);
  std::string request =
      "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(kPing.size()) + "\r\n\r\n" + kPing;
  long rss_after_warmup = 0;
  constexpr int kBatch = 100;  // pipelined: a batch is written before its responses are read
  for (int round = 0; round < 10000 / kBatch; ++round) {
    std::string batch;
    for (int i = 0; i < kBatch; ++i) batch += request;
    ASSERT_TRUE(client.send_raw(batch));
    for (int i = 0; i < kBatch; ++i) {
      auto response = client.read();
      ASSERT_TRUE(response) << "round " << round << " response " << i;
      ASSERT_EQ(response->result_int(), 200u);
      ASSERT_TRUE(response->keep_alive());
    }
    if (round == 9) rss_after_warmup = server_->rss_kib();
  }
  long rss_end = server_->rss_kib();
  if (kRssIsMeaningful) {
    EXPECT_LT(rss_end - rss_after_warmup, 8 * 1024) << "memory grew";
  }
  expect_alive();
}

// A request as a client writes it, with Host, Content-Type and Content-Length set.
std::string raw_request(const std::string& method, const std::string& target,
                        const std::string& body = {}, const std::string& extra_headers = {}) {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (!body.empty() || method == "POST")
    bytes +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return bytes + "\r\n" + body;
}

// Whether the server sent something, or closed, within `limit`. The client's reads block (Asio
// retries past SO_RCVTIMEO), so a test that must not wait for a server deadline polls first.
bool answers_within(HttpClient& client, std::chrono::milliseconds limit) {
  if (client.has_unparsed_bytes()) return true;
  pollfd watch{.fd = client.socket().native_handle(), .events = POLLIN, .revents = 0};
  return ::poll(&watch, 1, static_cast<int>(limit.count())) == 1;
}

// The status of the connection's next response; 0 when it closed first.
unsigned next_status(HttpClient& client) {
  auto response = client.read();
  return response ? response->result_int() : 0;
}

TEST_F(HttpListenerTest, PipelinedRequestsAreAnsweredInOrderAndSeeTheWritesBeforeThem) {
  start();
  HttpClient client(port_);
  const std::string list = "/~default/experiments?name=pipelined";
  // One write: a read, a create, the same read, a body that is not JSON, the read again.
  ASSERT_TRUE(client.send_raw(
      raw_request("GET", list) +
      raw_request("POST", "/~default/experiments", R"({"name":"pipelined"})") +
      raw_request("GET", list) + raw_request("POST", "/~default/experiments", R"({"name":)") +
      raw_request("GET", list)));
  auto items_in = [](const test_support::HttpResult& response) {
    return boost::json::parse(response.body()).at("items").as_array().size();
  };
  auto before = client.read();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->result_int(), 200u);
  EXPECT_EQ(items_in(*before), 0u);
  auto created = client.read();
  ASSERT_TRUE(created);
  EXPECT_EQ(created->result_int(), 201u) << created->body();
  auto after = client.read();
  ASSERT_TRUE(after);
  EXPECT_EQ(items_in(*after), 1u) << "the read after the create did not see it";
  auto refused = client.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);
  EXPECT_NE(refused->body().find("\"field\":\"body\""), std::string::npos) << refused->body();
  auto last = client.read();
  ASSERT_TRUE(last);
  EXPECT_EQ(items_in(*last), 1u);
  EXPECT_TRUE(last->keep_alive());
}

TEST_F(HttpListenerTest, AResponseIsNotHeldWhileTheNextRequestIsStillArriving) {
  start();
  HttpClient client(port_);
  // The first request whole and the second one's headers cut short, in one write: the first
  // response must come before the rest of the second request.
  std::string second = raw_request("POST", "/mcp", kPing);
  std::size_t cut = second.find("\r\n") + 2;
  ASSERT_TRUE(client.send_raw(raw_request("POST", "/mcp", kPing) + second.substr(0, cut)));
  ASSERT_TRUE(answers_within(client, std::chrono::seconds(5)))
      << "the first response waited for the second request";
  EXPECT_EQ(next_status(client), 200u);
  ASSERT_TRUE(client.send_raw(second.substr(cut)));
  EXPECT_EQ(next_status(client), 200u);
}

TEST_F(HttpListenerTest, AnExpectContinueBehindAPipelinedRequestComesAfterItsResponse) {
  start();
  HttpClient client(port_);
  std::string waiting =
      "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nExpect: 100-continue\r\nContent-Length: " +
      std::to_string(kPing.size()) + "\r\n\r\n";
  ASSERT_TRUE(client.send_raw(raw_request("POST", "/mcp", kPing) + waiting));
  EXPECT_EQ(next_status(client), 200u);
  ASSERT_TRUE(answers_within(client, std::chrono::seconds(5)))
      << "no 100 Continue for a client waiting to send its body";
  EXPECT_EQ(next_status(client), 100u);
  ASSERT_TRUE(client.send_raw(kPing));
  EXPECT_EQ(next_status(client), 200u);
}

TEST_F(HttpListenerTest, ARequestThatCannotBeFramedIsRefusedAfterThePipelinedOnesBeforeIt) {
  start();
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw(raw_request("POST", "/mcp", kPing) +
                              raw_request("POST", "/mcp", kPing) + "GARBAGE\r\n\r\n"));
  for (int i = 0; i < 2; ++i) {
    auto answered = client.read();
    ASSERT_TRUE(answered) << "response " << i;
    EXPECT_EQ(answered->result_int(), 200u);
  }
  auto refused = client.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);
  EXPECT_TRUE(client.closed_by_server());
  expect_alive();
}

TEST_F(HttpListenerTest, AStartedRequestMustFinishWithinTheLineTimeoutHoweverItTrickles) {
  start({"--line-timeout", "1"});
  // One byte every 200 ms, of the headers and then of a body: neither ever ends, and no read
  // waits long enough for a per-read deadline to fire.
  for (std::string prefix : {std::string("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "),
                             raw_request("POST", "/mcp", std::string(100, ' ')).substr(0, 90)}) {
    HttpClient client(port_);
    ASSERT_TRUE(client.send_raw(prefix));
    auto started = std::chrono::steady_clock::now();
    bool closed = false;
    for (int i = 0; i < 25 && !closed; ++i)
      closed = !client.send_raw("a") || (answers_within(client, std::chrono::milliseconds(200)) &&
                                         client.closed_by_server());
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_TRUE(closed) << prefix << ": a request trickling for 5 s outlived a 1 s deadline";
    EXPECT_LT(seconds, 3.5) << prefix;
  }
  expect_alive();
}

TEST_F(HttpListenerTest, AClientThatNeverReadsDoesNotStallOthers) {
  start();
  HttpClient stuck(port_);
  int buffer = 4096;
  setsockopt(stuck.socket().native_handle(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  std::string request =
      "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(kPing.size()) + "\r\n\r\n" + kPing;
  std::string batch;
  for (int i = 0; i < 2000; ++i) batch += request;
  std::thread writer([&] { stuck.send_raw(batch); });  // blocks once the server stops reading
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  expect_alive();
  stuck.socket().close();
  writer.join();
  expect_alive();
}

TEST_F(HttpListenerTest, ForeignOriginsAndHostsGet403) {
  start({"--allow-origin", "https://console.example.com"});
  EXPECT_EQ(status_with({{"Origin", "http://evil.example"}}), 403);
  EXPECT_EQ(status_with({{"Origin", "http://localhost:" + std::to_string(port_)}}), 200);
  EXPECT_EQ(status_with({{"Origin", "https://console.example.com"}}), 200);
  EXPECT_EQ(status_with({{"Host", "evil.example"}}), 403)
      << "a loopback listener takes loopback Host names only";
}

TEST_F(HttpListenerTest, NonLoopbackListenerNeedsTheBearerToken) {
  std::string token_file = test_support::token_file("http_listener", "0123456789abcdef0123");
  start({"--token-file", token_file}, "0.0.0.0");
  HttpClient client(port_);
  auto missing = client.request(verb::post, "/mcp", kPing, {{"Content-Type", "application/json"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 401u);
  EXPECT_EQ((*missing)[beast_http::field::www_authenticate].substr(0, 6), "Bearer");
  EXPECT_EQ(status_with({{"Authorization", "Bearer 0123456789abcdef0124"}}), 401);
  EXPECT_EQ(status_with({{"Authorization", "Bearer 0123456789abcdef0123"}}), 200);
  std::remove(token_file.c_str());
}

TEST_F(HttpListenerTest, HttpsServesMcpWithTheGivenCertificate) {
  std::string dir = std::string(VERDICT_SOURCE_DIR) + "/tests/server/http/tls/";
  port_ = test_support::free_tcp_port();
  db_ = test_support::temp_path("http_listener", "db");
  server_.emplace(std::vector<std::string>{
      "serve", "--db", ":memory:", "--no-stdio", "--log-level", "error", "--listen",
      "https://127.0.0.1:" + std::to_string(port_), "--tls-cert", dir + "test_cert.pem",
      "--tls-key", dir + "test_key.pem"});
  HttpClient plain(port_);  // waits for the listener
  ASSERT_TRUE(plain.connected());
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  context.load_verify_file(dir + "test_cert.pem");
  boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream(std::move(plain.socket()), context);
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.handshake(boost::asio::ssl::stream_base::client);
  beast_http::request<beast_http::string_body> request{verb::post, "/mcp", 11};
  request.set(beast_http::field::host, "127.0.0.1");
  request.set(beast_http::field::content_type, "application/json");
  request.body() = kPing;
  request.prepare_payload();
  beast_http::write(stream, request);
  boost::beast::flat_buffer buffer;
  test_support::HttpResult response;
  beast_http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_NE(response.body().find(R"("id":1)"), std::string::npos) << response.body();
}

TEST_F(HttpListenerTest, NonLoopbackListenerWithoutATokenRefusesToStart) {
  port_ = test_support::free_tcp_port();
  ServerProcess server({"serve", "--db", ":memory:", "--no-stdio", "--listen",
                        "http://0.0.0.0:" + std::to_string(port_)});
  EXPECT_EQ(server.wait(), 1);
  EXPECT_NE(server.read_all_stderr().find("requires API keys"), std::string::npos);
}

}  // namespace
}  // namespace verdict::server::http
