#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/engine_worker.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http::rest {

/// The collection path segment of a noun: the name with a lower-case first letter, pluralised
/// by English spelling (`Experiment` -> `experiments`, `FeatureFlag` -> `featureFlags`,
/// `Activity` -> `activities`, `Address` -> `addresses`).
std::string plural_of(std::string_view noun);

/// The schema as the engine describes it (the plain JSON-RPC `schema` method: every noun's
/// fields and verbs), fetched from the engine thread, where plugins may change it, and cached.
/// A lookup that misses fetches it again once, so a noun, field or verb added at run time is
/// served without REST code. I/O thread only.
class RestSchema {
 public:
  explicit RestSchema(EngineWorker& worker) : worker_(worker) {}

  /// The noun described (`describe()` in core/schema.hpp) whose plural is `plural`, or null.
  boost::asio::awaitable<std::shared_ptr<const boost::json::object>> noun_for_plural(
      std::string plural, const RequestContext& context);
  /// The same noun from the cached schema alone, or null (not cached, or not there): a hit
  /// costs no coroutine frame.
  std::shared_ptr<const boost::json::object> cached_noun(std::string_view plural) const {
    return cached_ ? find_plural(cached_, plural) : nullptr;
  }
  /// The whole schema, fetched now: `{nouns: [...]}`.
  boost::asio::awaitable<std::shared_ptr<const boost::json::object>> fresh(
      const RequestContext& context);

 private:
  /// A fetched schema with each noun's plural worked out once, beside its description.
  struct Described {
    boost::json::object schema;
    std::vector<std::pair<std::string, const boost::json::object*>> by_plural;
  };
  static std::shared_ptr<const boost::json::object> find_plural(
      const std::shared_ptr<const Described>& described, std::string_view plural);

  EngineWorker& worker_;
  std::shared_ptr<const Described> cached_;
};

}  // namespace verdict::server::http::rest
