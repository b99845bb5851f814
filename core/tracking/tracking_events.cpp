#include "core/tracking/tracking_events.hpp"

#include <map>

#include "core/store.hpp"

namespace verdict::tracking {

namespace {

using Columns = std::map<std::string, std::string, std::less<>>;

// The SELECT of one event source: meta columns, then the Event fields in declaration order
// (NULL for a field the source does not fill, such as one a plugin declared).
std::string select(const Noun& noun, const Columns& columns, const std::string& from) {
  std::string sql = "SELECT " + columns.at("id") + ", 1, " + columns.at("timestamp") + ", " +
                    columns.at("timestamp");
  for (const auto& field : noun.fields) {
    auto column = columns.find(field.name);
    sql += ", " + (column == columns.end() ? std::string("NULL") : column->second);
  }
  return sql + ", " + columns.at("project") + " FROM " + from;
}

// A JSON object built from name, value pairs, as text (the Event's data column is text).
std::string json_object(storage::Backend backend, std::string_view pairs) {
  if (backend == storage::Backend::kSqlite) return "json_object(" + std::string(pairs) + ")";
  return "CAST(json_build_object(" + std::string(pairs) + ") AS TEXT)";
}

}  // namespace

void add_tracking_events(Store& store) {
  if (!store.schema().find("Event")) return;
  auto backend = store.db().backend();
  store.add_row_source("Event", [backend](const Noun& noun) {
    return select(noun,
                  {{"id", "'event_assigned.' || experiment || '.' || unit"},
                   {"type", "'experiment.assigned'"},
                   {"subject", "experiment"},
                   {"unit", "unit"},
                   {"variant", "variant_key"},
                   {"timestamp", "at"},
                   {"data", json_object(backend, "'variantIndex', variant, 'bucket', bucket")},
                   {"project", "project"}},
                  "exposure");
  });
  store.add_row_source("Event", [backend](const Noun& noun) {
    // One event per unit and metric: a binomial metric converts a unit once; a mean metric's
    // value is the unit's running sum.
    return select(
        noun,
        {{"id", "'event_converted.' || m.experiment || '.' || m.metric || '.' || m.unit"},
         {"type", "'experiment.converted'"},
         {"subject", "m.experiment"},
         {"unit", "m.unit"},
         {"variant", "e.variant_key"},
         {"timestamp", "COALESCE(m.at, e.at)"},
         {"data", json_object(backend,
                              "'metric', m.metric, 'value', m.value, 'events', m.events,"
                              " 'variantIndex', m.variant")},
         {"project", "e.project"}},
        "unit_metric AS m JOIN exposure AS e ON e.experiment = m.experiment AND e.unit = m.unit");
  });
}

}  // namespace verdict::tracking
