#pragma once

#include <cstddef>
#include <string_view>

namespace verdict::assignment {

/// Decodes the code point that starts at `pos` in UTF-8 `text` and advances `pos` past it.
/// A malformed or truncated sequence decodes as U+FFFD and consumes one byte, as a
/// WHATWG TextDecoder does, so any byte string has a well-defined UTF-16 form.
/// Precondition: pos < text.size().
char32_t decode_utf8(std::string_view text, std::size_t& pos) noexcept;

/// Calls `emit(char16_t)` for every UTF-16 code unit of UTF-8 `text`: the units a JavaScript
/// string of the same text holds. GrowthBook hashes these units, so this is what makes
/// non-ASCII units hash as every GrowthBook SDK hashes them.
template <typename Emit>
void for_each_utf16_unit(std::string_view text, Emit&& emit) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x80) {
      emit(static_cast<char16_t>(byte));
      ++pos;
      continue;
    }
    const char32_t code_point = decode_utf8(text, pos);
    if (code_point < 0x10000) {
      emit(static_cast<char16_t>(code_point));
    } else {
      const char32_t offset = code_point - 0x10000;
      emit(static_cast<char16_t>(0xD800 + (offset >> 10)));
      emit(static_cast<char16_t>(0xDC00 + (offset & 0x3FF)));
    }
  }
}

/// Orders two UTF-8 strings as JavaScript orders strings: by UTF-16 code units. This differs
/// from byte order only between a character above U+FFFF and one in U+E000..U+FFFF.
/// Returns a negative number, zero or a positive number.
int compare_utf16(std::string_view a, std::string_view b) noexcept;

}  // namespace verdict::assignment
