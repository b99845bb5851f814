#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verdict::server {

/// A line parsed once, on the transport's thread (as LineFramer frames it, or Dispatcher::parse),
/// for the thread that answers it; the text is not kept. Its values come from one arena that
/// starts inside this object, so a small request costs one block, reused (operator new), and is
/// freed at once, without visiting each value; bytes() is all the memory it holds, which counts
/// against the connection's input budget.
class ParsedLine final {
  /// Counts what the arena takes beyond its first block, which is inside this object.
  class CountingResource final : public boost::json::memory_resource {
   public:
    std::size_t bytes() const { return bytes_; }

   private:
    void* do_allocate(std::size_t size, std::size_t alignment) override;
    void do_deallocate(void* p, std::size_t size, std::size_t alignment) override;
    bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
      return this == &other;
    }
    std::size_t bytes_ = 0;
  };

  // Declared before the message, so that they are built before it and outlive it. The first
  // block holds a `tools/call get`; a request of the 2026-07-28 era, with its _meta, takes one
  // more block.
  alignas(std::max_align_t) unsigned char first_block_[896];
  CountingResource upstream_;
  boost::json::monotonic_resource arena_{first_block_, sizeof first_block_,
                                         boost::json::storage_ptr(&upstream_)};

 public:
  ParsedLine(std::string_view line, const boost::json::parse_options& options);
  /// With a parser kept for many lines (LineFramer's), which saves building one per line.
  ParsedLine(std::string_view line, boost::json::parser& parser)
      : message(parse_with(parser, line, boost::json::storage_ptr(&arena_), error)) {}
  /// An empty object in the arena, for a message an adapter builds itself (HTTP's engine calls)
  /// and has answered as if parsed from text: values built into it cost no allocation of their own.
  ParsedLine() : message(boost::json::object(boost::json::storage_ptr(&arena_))) {}
  ParsedLine(const ParsedLine&) = delete;
  ParsedLine& operator=(const ParsedLine&) = delete;

  /// Lines are parsed in runs (a read's worth) and freed in runs, often on another thread;
  /// glibc's per-thread cache keeps 7 blocks of a size, so most of a run went through its
  /// slower paths. Freed blocks are kept for reuse instead, up to kSpareBlocks. Thread-safe.
  static void* operator new(std::size_t size);
  static void operator delete(void* block, std::size_t size) noexcept;
#if defined(__SANITIZE_ADDRESS__)
  static constexpr std::size_t kSpareBlocks = 0;  // so that ASan sees a use after free
#else
  static constexpr std::size_t kSpareBlocks = 256;
#endif

  std::size_t bytes() const {
    return sizeof(ParsedLine) + upstream_.bytes();
  }

  boost::system::error_code error;
  boost::json::value message;  ///< null when the line did not parse

 private:
  static boost::json::value parse_with(boost::json::parser& parser, std::string_view line,
                                       boost::json::storage_ptr arena,
                                       boost::system::error_code& error);
};

/// Splits a byte stream into newline-terminated messages (MCP stdio framing, used on every
/// transport). A line longer than the limit is dropped as it streams in, never buffered whole,
/// and reported once so the connection can answer it and stay usable.
class LineFramer {
 public:
  struct Frame {
    /// Without the newline; a trailing '\r' is removed. Empty once the line is parsed: what
    /// answers it reads `parsed`.
    std::string line;
    bool oversized = false;  ///< the line exceeded the limit and was discarded
    /// Set when the line was parsed on the transport's thread (as it was framed, or by
    /// Dispatcher::parse), so that the thread answering it does not parse it again.
    std::unique_ptr<ParsedLine> parsed;

    /// What the frame costs while it waits to be answered (input budgets): its text, and the
    /// parsed message, which takes several times the memory of its text.
    std::size_t held_bytes() const { return line.size() + (parsed ? parsed->bytes() : 0); }
  };

  /// With `parse`, each line is parsed as it is framed, straight from the bytes fed, so a line
  /// costs no string of its own; the options are the dispatcher's (Dispatcher::parse_options).
  explicit LineFramer(std::size_t max_line_bytes,
                      std::optional<boost::json::parse_options> parse = std::nullopt)
      : max_line_bytes_(max_line_bytes), parse_(parse) {
    if (parse_) renew_parser();
  }

  /// Consumes bytes and appends every completed frame to `out`, up to `max_frames` of them, and
  /// returns the bytes after the last line it framed (empty once all are consumed). Empty lines
  /// are skipped.
  std::string_view feed(std::string_view bytes, std::vector<Frame>& out,
                        std::size_t max_frames = SIZE_MAX);
  /// The bytes of an unfinished line, e.g. to report at EOF.
  bool has_partial() const { return !partial_.empty() || discarding_; }
  /// Memory held for the unfinished line (input budget): its capacity, which growth by
  /// doubling may make up to twice its length.
  std::size_t partial_bytes() const { return partial_.capacity(); }

 private:
  Frame frame_of(std::string_view line);
  void renew_parser();

  /// A parser's stack grows to the largest line it has parsed and never shrinks, so it is
  /// renewed after a line longer than this, which bounds what a framer holds between lines.
  static constexpr std::size_t kLargeLine = 16 * 1024;

  std::size_t max_line_bytes_;
  std::optional<boost::json::parse_options> parse_;
  /// Kept from line to line (reset to each line's arena): its stack is allocated once.
  std::unique_ptr<boost::json::parser> parser_;
  std::string partial_;
  bool discarding_ = false;
};

}  // namespace verdict::server
