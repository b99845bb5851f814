#pragma once

#include <string>
#include <string_view>

namespace verdict {

/// Lower-case ASCII letters and digits joined by single dashes: "Pricing Page V2!" ->
/// "pricing-page-v2". Non-ASCII characters separate words like punctuation; at most 80 characters.
std::string slugify(std::string_view text);

/// A new entity id: `<prefix>_` and 8 base62 characters from the OS's random source.
std::string new_id(std::string_view prefix);

}  // namespace verdict
