#include "server/line_framer.hpp"

#include <boost/json/parse.hpp>

namespace verdict::server {

ParsedLine::ParsedLine(std::string_view line, const boost::json::parse_options& options)
    : message(boost::json::parse(line, error, boost::json::storage_ptr(&arena_), options)) {}

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

void LineFramer::feed(std::string_view bytes, std::vector<Frame>& out) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, newline);
    if (!discarding_) {
      if (partial_.size() + chunk.size() > max_line_bytes_) {
        discarding_ = true;
        partial_.clear();
        partial_.shrink_to_fit();
      } else {
        partial_.append(chunk);
      }
    }
    if (newline == std::string_view::npos) return;
    bytes.remove_prefix(newline + 1);
    if (discarding_) {
      out.push_back({{}, true});
      discarding_ = false;
      continue;
    }
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (!partial_.empty()) out.push_back({std::move(partial_), false});
    partial_.clear();
  }
}

}  // namespace verdict::server
