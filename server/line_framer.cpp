#include "server/line_framer.hpp"

#include <boost/json/parse.hpp>

#include <mutex>
#include <vector>

namespace verdict::server {

namespace {

struct SpareBlocks {
  std::mutex mutex;
  std::vector<void*> blocks;
};

// Never destroyed: a line may be freed after static destruction has begun (a detached thread).
// Reserved whole at once, so that keeping a block never allocates (delete cannot fail).
SpareBlocks& spare_blocks() {
  static auto* spares = [] {
    auto* made = new SpareBlocks;
    made->blocks.reserve(ParsedLine::kSpareBlocks);
    return made;
  }();
  return *spares;
}

}  // namespace

void* ParsedLine::operator new(std::size_t size) {
  SpareBlocks& spares = spare_blocks();
  {
    std::lock_guard lock(spares.mutex);
    if (!spares.blocks.empty()) {
      void* block = spares.blocks.back();
      spares.blocks.pop_back();
      return block;
    }
  }
  return ::operator new(size);
}

void ParsedLine::operator delete(void* block, std::size_t) noexcept {
  SpareBlocks& spares = spare_blocks();
  {
    std::lock_guard lock(spares.mutex);
    if (spares.blocks.size() < kSpareBlocks) {
      spares.blocks.push_back(block);
      return;
    }
  }
  ::operator delete(block);  // unsized: clang (the fuzz build) declares no sized delete by default
}

ParsedLine::ParsedLine(std::string_view line, const boost::json::parse_options& options)
    : message(boost::json::parse(line, error, boost::json::storage_ptr(&arena_), options)) {}

boost::json::value ParsedLine::parse_with(boost::json::parser& parser, std::string_view line,
                                          boost::json::storage_ptr arena,
                                          boost::system::error_code& error) {
  parser.reset(std::move(arena));
  parser.write(line, error);
  if (!error) return parser.release();
  // What it built of this line is let go while the line's arena is still there.
  parser.reset();
  return nullptr;
}

void* ParsedLine::CountingResource::do_allocate(std::size_t size, std::size_t alignment) {
  void* block = ::operator new(size, std::align_val_t(alignment));
  bytes_ += size;
  return block;
}

void ParsedLine::CountingResource::do_deallocate(void* p, std::size_t size, std::size_t alignment) {
  bytes_ -= size;
  // Unsized: Boost 1.81's monotonic_resource frees a block with a smaller size than it asked for
  // (its header left out), which a sized delete would pass on to the allocator.
  ::operator delete(p, std::align_val_t(alignment));
}

std::string_view LineFramer::feed(std::string_view bytes, std::vector<Frame>& out,
                                  std::size_t max_frames) {
  const std::size_t framed_before = out.size();
  while (!bytes.empty() && out.size() - framed_before < max_frames) {
    auto newline = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, newline);
    if (!discarding_ && partial_.size() + chunk.size() > max_line_bytes_) {
      discarding_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
    }
    if (newline == std::string_view::npos) {
      if (!discarding_) partial_.append(chunk);
      return {};
    }
    bytes.remove_prefix(newline + 1);
    if (discarding_) {
      out.push_back({{}, true});
      discarding_ = false;
      continue;
    }
    // A line that arrived whole is framed from the bytes themselves, without a copy.
    std::string_view line = chunk;
    if (!partial_.empty()) line = partial_.append(chunk);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) out.push_back(frame_of(line));
    partial_.clear();
  }
  return bytes;
}

LineFramer::Frame LineFramer::frame_of(std::string_view line) {
  if (!parser_) return {std::string(line), false};
  Frame frame{{}, false, std::make_unique<ParsedLine>(line, *parser_)};
  if (line.size() > kLargeLine) renew_parser();
  return frame;
}

void LineFramer::renew_parser() {
  parser_ = std::make_unique<boost::json::parser>(boost::json::storage_ptr(), *parse_);
}

}  // namespace verdict::server
