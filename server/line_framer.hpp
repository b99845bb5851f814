#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace verdict::server {

/// Splits a byte stream into newline-terminated messages (MCP stdio framing, used on every
/// transport). A line longer than the limit is dropped as it streams in, never buffered whole,
/// and reported once so the connection can answer it and stay usable.
class LineFramer {
 public:
  struct Frame {
    std::string line;        ///< without the newline; a trailing '\r' is removed
    bool oversized = false;  ///< the line exceeded the limit and was discarded
  };

  explicit LineFramer(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  /// Consumes bytes and appends every completed frame to `out`. Empty lines are skipped.
  void feed(std::string_view bytes, std::vector<Frame>& out);
  /// The bytes of an unfinished line, e.g. to report at EOF.
  bool has_partial() const { return !partial_.empty() || discarding_; }
  /// Memory held for the unfinished line (input budget): its capacity, which growth by
  /// doubling may make up to twice its length.
  std::size_t partial_bytes() const { return partial_.capacity(); }

 private:
  std::size_t max_line_bytes_;
  std::string partial_;
  bool discarding_ = false;
};

}  // namespace verdict::server
