#pragma once

#include <string>
#include <string_view>

namespace verdict {

/// An entity as JSON text (to_json_text's form), and the same text as a JSON string literal: what
/// an MCP text content item carries. The literal is escaped on its first use and kept, so a
/// cached entity is escaped once however often it is served as text. Not thread-safe.
class EntityJson {
 public:
  EntityJson() = default;
  explicit EntityJson(std::string text) : text_(std::move(text)) {}

  const std::string& text() const { return text_; }
  /// text() as a JSON string literal, quotes included (append_json_string).
  std::string_view quoted() const;

 private:
  std::string text_;
  mutable std::string quoted_;  ///< empty until quoted() is first called
};

}  // namespace verdict
