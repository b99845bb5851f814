#include "core/tracking/namespaces.hpp"

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/tracking/holdouts.hpp"

#include <boost/json.hpp>

#include <cstdio>

namespace verdict::tracking {

namespace json = boost::json;

namespace {

std::string range_text(const assignment::Namespace& ns) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "[%g, %g)", ns.start, ns.end);
  return buffer;
}

std::string text_of(const json::object& entity, const char* key) {
  const auto* value = entity.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

}  // namespace

std::optional<assignment::Namespace> parse_namespace(const json::object& experiment) {
  const auto* value = experiment.if_contains("namespace");
  if (!value || value->is_null()) return std::nullopt;
  const auto* list = value->if_array();
  if (!list || list->size() != 3 || !(*list)[0].is_string() || (*list)[0].get_string().empty() ||
      !(*list)[1].is_number() || !(*list)[2].is_number())
    invalid("namespace", "expected [name, start, end], e.g. [\"checkout\", 0, 0.5]");
  assignment::Namespace ns{std::string((*list)[0].get_string()), (*list)[1].to_number<double>(),
                           (*list)[2].to_number<double>()};
  if (!(ns.start >= 0 && ns.start < ns.end && ns.end <= 1))
    invalid("namespace", "the range needs 0 <= start < end <= 1, got " + range_text(ns));
  return ns;
}

void check_namespace_overlap(Engine& engine, const json::object& experiment) {
  const auto ns = parse_namespace(experiment);
  // A holdout's namespace names the experiments it covers; it takes no range from them.
  if (!ns || is_holdout(experiment)) return;
  // A stopped or archived experiment holds no range, so writing it (archive, a note) cannot
  // overlap; no verb leads back to Running, and one that did would be checked by its status.
  const std::string status = text_of(experiment, "status");
  if (status == "Stopped" || status == "Archived") return;
  const std::string id = text_of(experiment, "id");
  // Only experiments that hold a range: stopped and archived ones have freed theirs.
  FindQuery query;
  query.filter = {{"namespace", {{"$exists", true}}},
                  {"status", {{"$nin", json::array{"Stopped", "Archived"}}}},
                  {"id", {{"$ne", id}}}};
  query.limit = 1000;
  do {
    const FindResult page = engine.find("Experiment", query);
    for (const auto& other : page.items) {
      const auto theirs = parse_namespace(other);
      if (!theirs || is_holdout(other) || theirs->id != ns->id) continue;
      if (ns->start < theirs->end && theirs->start < ns->end)
        throw Error(ErrorCode::kConflict,
                    "namespace: " + text_of(experiment, "name") + " " + range_text(*ns) +
                        " overlaps " + text_of(other, "name") + " (" + text_of(other, "id") + ") " +
                        range_text(*theirs) + " in namespace " + ns->id +
                        "; experiments in one namespace need disjoint ranges",
                    "namespace");
    }
    query.cursor = page.next_cursor;
  } while (!query.cursor.empty());
}

}  // namespace verdict::tracking
