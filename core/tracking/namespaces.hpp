#pragma once

#include "core/assignment/hash.hpp"

#include <boost/json/object.hpp>

#include <optional>

namespace verdict {
class Engine;
}

namespace verdict::tracking {

/// An Experiment's `namespace`, GrowthBook's `[name, start, end]` (0 <= start < end <= 1): the
/// experiment takes only units whose namespace hash falls in [start, end). nullopt when absent.
/// Throws verdict::Error naming `namespace` for any other shape.
std::optional<assignment::Namespace> parse_namespace(const boost::json::object& experiment);

/// Mutual exclusion at write time: refuses `experiment` when its range overlaps the range of
/// another experiment in the same namespace that is not Stopped or Archived, naming both.
/// A Stopped or Archived `experiment` is never refused: it holds no range.
void check_namespace_overlap(Engine& engine, const boost::json::object& experiment);

}  // namespace verdict::tracking
