#include "core/utf8.hpp"

namespace verdict {

namespace {

// The length of the valid sequence at `i`, or 0 when it is invalid; `prefix` is set to how many
// of its bytes looked right (the maximal invalid prefix that U+FFFD replaces, as WHATWG decoders).
std::size_t sequence_at(std::string_view text, std::size_t i, std::size_t& prefix) noexcept {
  auto byte = static_cast<unsigned char>(text[i]);
  // The length of the sequence `byte` starts and the range of its second byte, which excludes
  // overlong forms, surrogates and code points past U+10FFFF.
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (byte < 0x80) {
    length = 1;
  } else if (byte >= 0xC2 && byte <= 0xDF) {
    length = 2;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    length = 3;
    if (byte == 0xE0) low = 0xA0;
    if (byte == 0xED) high = 0x9F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    length = 4;
    if (byte == 0xF0) low = 0x90;
    if (byte == 0xF4) high = 0x8F;
  }
  prefix = length > 0 ? 1 : 0;
  while (prefix > 0 && prefix < length && i + prefix < text.size()) {
    auto next = static_cast<unsigned char>(text[i + prefix]);
    if (next < (prefix == 1 ? low : 0x80) || next > (prefix == 1 ? high : 0xBF)) break;
    ++prefix;
  }
  return length > 0 && prefix == length ? length : 0;
}

}  // namespace

std::size_t valid_utf8_prefix(std::string_view text) noexcept {
  std::size_t i = 0, prefix = 0;
  while (i < text.size()) {
    std::size_t length = sequence_at(text, i, prefix);
    if (length == 0) break;
    i += length;
  }
  return i;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0, prefix = 0;
  while (i < text.size()) {
    if (std::size_t length = sequence_at(text, i, prefix)) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      i += prefix > 0 ? prefix : 1;
    }
  }
  return out;
}

std::string_view clip_utf8(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  return text.substr(0, valid_utf8_prefix(text.substr(0, max_bytes)));
}

}  // namespace verdict
