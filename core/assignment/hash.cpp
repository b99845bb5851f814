#include "core/assignment/hash.hpp"

#include <charconv>

#include "core/assignment/utf16.hpp"

namespace verdict::assignment {
namespace {

constexpr std::uint32_t kFnvOffset = 0x811C9DC5u;
constexpr std::uint32_t kFnvPrime = 0x01000193u;

// Hashing the parts in turn equals hashing their concatenation, without allocating it.
class Fnv1a32 {
 public:
  Fnv1a32& update(std::string_view text) noexcept {
    for_each_utf16_unit(text, [this](char16_t unit) { state_ = (state_ ^ unit) * kFnvPrime; });
    return *this;
  }
  std::uint32_t value() const noexcept { return state_; }

 private:
  std::uint32_t state_ = kFnvOffset;
};

double fraction(std::uint32_t hash, std::uint32_t buckets) noexcept {
  return static_cast<double>(hash % buckets) / buckets;
}

}  // namespace

std::uint32_t fnv1a32(std::string_view text) noexcept {
  return Fnv1a32().update(text).value();
}

std::optional<double> hash(std::string_view seed, std::string_view value, int version) noexcept {
  if (version == 2) {
    const std::uint32_t inner = Fnv1a32().update(seed).update(value).value();
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits, inner).ptr;
    const std::uint32_t outer =
        fnv1a32(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    return fraction(outer, 10000);
  }
  if (version == 1) {
    return fraction(Fnv1a32().update(value).update(seed).value(), 1000);
  }
  return std::nullopt;
}

bool in_namespace(std::string_view user_id, const Namespace& ns) noexcept {
  // A version 1 hash with seed "__" + id; hashing the pieces in turn avoids building it.
  const double n = fraction(Fnv1a32().update(user_id).update("__").update(ns.id).value(), 1000);
  return n >= ns.start && n < ns.end;
}

}  // namespace verdict::assignment
