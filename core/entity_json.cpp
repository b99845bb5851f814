#include "core/entity_json.hpp"

#include "core/json_style.hpp"

namespace verdict {

std::string_view EntityJson::quoted() const {
  // A literal is never empty (it has its quotes), so empty means not escaped yet.
  if (quoted_.empty()) {
    quoted_.reserve(text_.size() + text_.size() / 4 + 2);
    append_json_string(quoted_, text_);
  }
  return quoted_;
}

}  // namespace verdict
