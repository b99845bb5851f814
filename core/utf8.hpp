#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace verdict {

/// The number of leading bytes of `text` that are valid UTF-8 (RFC 3629: no overlong forms,
/// surrogates or code points past U+10FFFF); `text.size()` when all of it is.
std::size_t valid_utf8_prefix(std::string_view text) noexcept;

/// `text` with every invalid UTF-8 sequence replaced by U+FFFD. Messages quote client and script
/// strings cut to a byte budget, and a cut inside a multi-byte character would otherwise put
/// invalid UTF-8 on the wire, which strict JSON parsers reject.
std::string valid_utf8(std::string_view text);

/// The longest prefix of valid UTF-8 `text` that fits in `max_bytes` and does not end inside a
/// character: for quoting client strings in messages and field names.
std::string_view clip_utf8(std::string_view text, std::size_t max_bytes) noexcept;

}  // namespace verdict
