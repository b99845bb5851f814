#include "server/http/rest/rest_schema.hpp"

#include <cctype>

#include "server/http/rest/rest_support.hpp"

namespace verdict::server::http::rest {

namespace asio = boost::asio;
namespace json = boost::json;

std::string plural_of(std::string_view noun) {
  std::string out(noun);
  if (out.empty()) return out;
  out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  auto vowel = [](char c) { return std::string_view("aeiou").find(c) != std::string_view::npos; };
  if (out.size() > 1 && out.back() == 'y' && !vowel(out[out.size() - 2])) {
    out.back() = 'i';
    return out + "es";
  }
  if (out.ends_with("s") || out.ends_with("x") || out.ends_with("z") || out.ends_with("ch") ||
      out.ends_with("sh"))
    return out + "es";
  return out + "s";
}

asio::awaitable<std::shared_ptr<const json::object>> RestSchema::fresh(
    const RequestContext& context) {
  json::value schema = co_await engine_call(worker_, context, kSchemaMethod, json::object());
  auto described = std::make_shared<Described>();
  described->schema = std::move(schema.as_object());
  for (const json::value& noun : described->schema.at("nouns").as_array())
    described->by_plural.emplace_back(plural_of(noun.at("name").as_string()), &noun.as_object());
  cached_ = std::move(described);
  // Shares the snapshot's lifetime, copies nothing.
  co_return std::shared_ptr<const json::object>(cached_, &cached_->schema);
}

std::shared_ptr<const json::object> RestSchema::find_plural(
    const std::shared_ptr<const Described>& described, std::string_view plural) {
  for (const auto& [noun_plural, noun] : described->by_plural)
    if (noun_plural == plural) return {described, noun};
  return nullptr;
}

asio::awaitable<std::shared_ptr<const json::object>> RestSchema::noun_for_plural(
    std::string plural, const RequestContext& context) {
  // No co_await inside a conditional expression or a call's arguments: GCC 12 miscompiles
  // both (the awaited value is garbage).
  const bool had_cache = cached_ != nullptr;
  if (!had_cache) co_await fresh(context);
  std::shared_ptr<const Described> described = cached_;
  if (auto noun = find_plural(described, plural)) co_return noun;
  if (!had_cache) co_return nullptr;
  co_await fresh(context);
  described = cached_;
  co_return find_plural(described, plural);
}

}  // namespace verdict::server::http::rest
