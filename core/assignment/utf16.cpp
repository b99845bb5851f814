#include "core/assignment/utf16.hpp"

#include <algorithm>
#include <utility>

namespace verdict::assignment {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// The first UTF-16 unit decides JavaScript's order; the second only breaks ties between
// supplementary characters, whose order then matches code point order.
std::pair<char32_t, char32_t> utf16_key(char32_t code_point) {
  if (code_point < 0x10000) return {code_point, 0};
  const char32_t offset = code_point - 0x10000;
  return {0xD800 + (offset >> 10), 0xDC00 + (offset & 0x3FF)};
}

}  // namespace

char32_t decode_utf8(std::string_view text, std::size_t& pos) noexcept {
  const auto lead = static_cast<unsigned char>(text[pos]);
  int length = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    ++pos;
    return kReplacement;
  }
  if (pos + length > text.size()) {
    ++pos;
    return kReplacement;
  }
  for (int i = 1; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[pos + i]);
    if (!is_continuation(byte)) {
      ++pos;
      return kReplacement;
    }
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    ++pos;
    return kReplacement;
  }
  pos += length;
  return code_point;
}

int compare_utf16(std::string_view a, std::string_view b) noexcept {
  const auto [a_diff, b_diff] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  std::size_t pos = static_cast<std::size_t>(a_diff - a.begin());
  if (a_diff == a.end() || b_diff == b.end()) {
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
  }
  // Back up to the start of the character holding the first difference; the shared prefix
  // puts it at the same offset in both strings.
  while (pos > 0 && is_continuation(static_cast<unsigned char>(a[pos]))) --pos;
  std::size_t a_pos = pos;
  std::size_t b_pos = pos;
  const auto a_key = utf16_key(decode_utf8(a, a_pos));
  const auto b_key = utf16_key(decode_utf8(b, b_pos));
  if (a_key != b_key) return a_key < b_key ? -1 : 1;
  // Two different malformed sequences both decode as U+FFFD; fall back to bytes.
  return static_cast<unsigned char>(*a_diff) < static_cast<unsigned char>(*b_diff) ? -1 : 1;
}

}  // namespace verdict::assignment
