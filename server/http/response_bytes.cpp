#include "server/http/response_bytes.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/serializer.hpp>

#include <string_view>

namespace verdict::server::http {

namespace {

void append_serialized(std::string& out, const HttpResponse& response) {
  namespace bhttp = boost::beast::http;
  bhttp::response_serializer<bhttp::string_body> serializer{response};
  boost::system::error_code ec;
  while (!ec && !serializer.is_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      for (auto buffer : boost::beast::buffers_range_ref(buffers))
        out.append(static_cast<const char*>(buffer.data()), buffer.size());
      serializer.consume(boost::beast::buffer_bytes(buffers));
    });
  }
}

}  // namespace

void append_response_bytes(std::string& out, const HttpResponse& response) {
  if (response.chunked()) return append_serialized(out, response);
  // As basic_fields::writer writes the status line: the version's two digits and the code's
  // three, whatever they are.
  const unsigned version = response.version();
  const unsigned code = response.result_int();
  char start[] = "HTTP/x.y ### ";
  start[5] = static_cast<char>('0' + version / 10);
  start[7] = static_cast<char>('0' + version % 10);
  start[9] = static_cast<char>('0' + code / 100);
  start[10] = static_cast<char>('0' + code / 10 % 10);
  start[11] = static_cast<char>('0' + code % 10);
  constexpr std::size_t kStartBytes = sizeof start - 1;  // not its terminating zero
  constexpr std::string_view kLineEnd = "\r\n";
  constexpr std::string_view kSeparator = ": ";
  const std::string_view reason = response.reason();
  std::size_t size = kStartBytes + reason.size() + 2 * kLineEnd.size() + response.body().size();
  for (const auto& field : response)
    size += field.name_string().size() + kSeparator.size() + field.value().size() + kLineEnd.size();
  out.reserve(out.size() + size);
  out.append(start, kStartBytes).append(reason).append(kLineEnd);
  for (const auto& field : response)
    out.append(field.name_string()).append(kSeparator).append(field.value()).append(kLineEnd);
  out.append(kLineEnd).append(response.body());
}

}  // namespace verdict::server::http
