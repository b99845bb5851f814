#include "server/line_framer.hpp"

namespace verdict::server {

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
