// libFuzzer target for the line framing every transport uses (server/line_framer.hpp): the
// input's first two bytes choose a read size and a frame limit, the rest is the byte stream.
//
// Oracles beyond the sanitizers: fed in those reads, each read a piece of at most that many
// frames at a time (as stdin is answered), the framer must produce exactly the frames that
// splitting the whole stream on newlines gives; and every parsed line must equal what a fresh
// boost::json::parse of that line with the same options gives, error included, although the
// framer keeps one parser from line to line.

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/line_framer.hpp"

namespace {

namespace json = boost::json;
using verdict::server::LineFramer;

// Under run.sh's -max_len (16 KiB), so that inputs reach oversized lines.
constexpr std::size_t kMaxLineBytes = 8192;

[[noreturn]] void fail(std::string_view what, std::size_t frame) {
  std::fprintf(stderr, "line_framer_fuzzer: frame %zu: %.*s\n", frame,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

json::parse_options options() {
  json::parse_options parse;
  parse.max_depth = 8;
  return parse;
}

struct ExpectedFrame {
  bool oversized = false;
  std::string line;
};

// What the framer must produce: complete lines only (a last line without its newline stays
// pending), over the limit counted with a trailing '\r', empty ones skipped.
std::vector<ExpectedFrame> split(std::string_view stream) {
  std::vector<ExpectedFrame> frames;
  for (std::size_t newline; (newline = stream.find('\n')) != std::string_view::npos;) {
    std::string_view line = stream.substr(0, newline);
    stream.remove_prefix(newline + 1);
    if (line.size() > kMaxLineBytes) {
      frames.push_back({true, {}});
      continue;
    }
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) frames.push_back({false, std::string(line)});
  }
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t read_size = 1 + data[0] % 64;
  const std::size_t max_frames = 1 + data[1] % 17;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  LineFramer framer(kMaxLineBytes, options());
  std::vector<LineFramer::Frame> frames;
  for (std::size_t at = 0; at < stream.size(); at += read_size) {
    std::string_view rest = stream.substr(at, read_size);
    while (!rest.empty()) {
      std::size_t before = frames.size();
      rest = framer.feed(rest, frames, max_frames);
      if (frames.size() - before > max_frames) fail("more frames than the limit in one feed", 0);
    }
  }

  std::vector<ExpectedFrame> expected = split(stream);
  if (frames.size() != expected.size()) fail("a different number of frames", frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const LineFramer::Frame& frame = frames[i];
    if (frame.oversized != expected[i].oversized) fail("oversized differs", i);
    if (frame.oversized) {
      if (frame.parsed) fail("an oversized line was parsed", i);
      continue;
    }
    if (!frame.parsed) fail("a line was not parsed", i);
    boost::system::error_code error;
    json::value fresh = json::parse(expected[i].line, error, {}, options());
    if (frame.parsed->error != error) fail("the parse error differs from a fresh parser's", i);
    if (!error && frame.parsed->message != fresh) fail("the value differs from a fresh parse", i);
  }
  return 0;
}
