#include "server/http/response_bytes.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>

#include <sstream>
#include <string>

namespace verdict::server::http {
namespace {

using beast_http::field;
using beast_http::status;

// What Beast's own serializer writes for the message (operator<< runs it).
std::string as_beast_writes(const HttpResponse& response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

void expect_beasts_bytes(const HttpResponse& response) {
  std::string out = "earlier response";
  append_response_bytes(out, response);
  EXPECT_EQ(out, "earlier response" + as_beast_writes(response));
}

TEST(ResponseBytesTest, WritesWhatBeastsSerializerWrites) {
  HttpResponse json{status::ok, 11};
  json.set(field::content_type, "application/json");
  json.set(field::etag, "\"7\"");
  json.set("X-Custom-Name", "with: a colon");
  json.set(field::cache_control, "");
  json.body() = R"({"id":"experiment_1","version":7})";
  json.keep_alive(true);
  json.prepare_payload();
  expect_beasts_bytes(json);

  HttpResponse legacy{status::not_found, 10};
  legacy.reason("Gone Fishing");
  legacy.body() = "no such thing";
  legacy.keep_alive(false);
  legacy.prepare_payload();
  expect_beasts_bytes(legacy);

  HttpResponse not_modified{status::not_modified, 11};
  not_modified.set(field::etag, "\"7\"");
  not_modified.prepare_payload();
  expect_beasts_bytes(not_modified);

  HttpResponse unknown_code{static_cast<status>(299), 11};
  unknown_code.prepare_payload();
  expect_beasts_bytes(unknown_code);

  HttpResponse large{status::payload_too_large, 11};
  large.body() = std::string(100'000, 'x');
  large.prepare_payload();
  expect_beasts_bytes(large);
}

TEST(ResponseBytesTest, LeavesAChunkedMessageToBeastsChunkFraming) {
  HttpResponse chunked{status::ok, 11};
  chunked.set(field::content_type, "text/plain");
  chunked.body() = "in chunks";
  chunked.chunked(true);
  std::string out;
  append_response_bytes(out, chunked);
  EXPECT_EQ(out, as_beast_writes(chunked));
  EXPECT_NE(out.find("\r\n9\r\nin chunks\r\n0\r\n\r\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace verdict::server::http
