#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verdict {

/// An entity as JSON text (to_json_text's form), and the same text as a JSON string literal: what
/// an MCP text content item carries. The literal is escaped on its first use and kept, so a
/// cached entity is escaped once however often it is served as text. Not thread-safe.
class EntityJson {
 public:
  EntityJson() = default;
  explicit EntityJson(std::string text, std::optional<std::int64_t> version = std::nullopt)
      : text_(std::move(text)), version_(version) {}

  const std::string& text() const { return text_; }
  /// The entity's version when the text is one entity as the store wrote it, so that a caller
  /// that needs it (REST's ETag) does not parse the text for it.
  std::optional<std::int64_t> version() const { return version_; }
  /// text() as a JSON string literal, quotes included (append_json_string).
  std::string_view quoted() const;

 private:
  std::string text_;
  std::optional<std::int64_t> version_;
  mutable std::string quoted_;  ///< empty until quoted() is first called
};

}  // namespace verdict
