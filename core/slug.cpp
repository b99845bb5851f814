#include "core/slug.hpp"

#include <cctype>
#include <random>

namespace verdict {

std::string slugify(std::string_view text) {
  std::string slug;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80 && std::isalnum(byte)) {
      slug += static_cast<char>(std::tolower(byte));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
    if (slug.size() >= 80) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

std::string new_id(std::string_view prefix) {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  // random_device reads the kernel's CSPRNG; the distribution rejects to avoid modulo bias.
  thread_local std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id(prefix);
  id += '_';
  for (int i = 0; i < 8; ++i) id += kAlphabet[pick(device)];
  return id;
}

}  // namespace verdict
