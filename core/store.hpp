#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/access/caller.hpp"
#include "core/entity_json.hpp"
#include "core/schema.hpp"
#include "core/storage/connection.hpp"

namespace verdict {

/// A query over one noun, MongoDB style: `{"status": "Running", "confidence": {"$gte": 95}}`.
struct FindQuery {
  boost::json::object filter;
  boost::json::object sort;  ///< field -> "asc" | "desc" | 1 | -1, applied in order
  std::int64_t limit = 20;   ///< 1-1000
  std::string cursor;        ///< opaque, from a previous page's next_cursor
};

/// A page of an entity's event history, oldest first.
struct HistoryQuery {
  std::int64_t limit = 100;  ///< 1-1000
  std::string cursor;        ///< opaque, from a previous page's historyNextCursor
};

struct FindResult {
  std::vector<boost::json::object> items;
  std::string next_cursor;  ///< empty on the last page
};

/// One entry of the append-only event log.
struct EventRecord {
  std::int64_t sequence = 0;
  std::string type;  ///< `Experiment.Started`
  std::string noun;
  std::string entity_id;
  std::string verb;
  boost::json::object data;
  std::string actor;
  std::string at;
  std::string key_id;  ///< the acting key; empty for the local operator
  std::string key_name;
};

/// A SELECT of rows kept in another module's tables, shown as entities of a noun: its columns
/// are `id, version, createdAt, updatedAt` and then the noun's fields in declaration order.
using RowSource = std::function<std::string(const Noun& noun)>;

/// The SQLite store: one typed table per noun generated from the schema, and the event log.
/// Every row belongs to one project (a `project` column); every read and write sees only the
/// current project (set_project, or Store::Scope), so no caller can name another project's rows.
/// Ids are unique across projects; unique fields (slugs, keys) are unique per project.
/// Not thread-safe; the engine's single executor owns it.
class Store {
 public:
  static constexpr std::int64_t kMaxLimit = 1000;

  /// Opens the store at `location` (storage::open: a SQLite path, ":memory:" for tests, or a
  /// PostgreSQL URL) and creates or migrates tables for every noun.
  Store(const std::string& location, const Schema& schema);
  /// kReadOnly: another connection to a file a read-write Store has created and migrated; it
  /// creates nothing, and writes fail.
  Store(const std::string& location, const Schema& schema, storage::OpenMode mode);

  /// Creates missing tables, columns and indexes; call again after the schema grows.
  void migrate();

  /// The project (id) every query is scoped to; `prj_default` until set.
  const std::string& project() const { return project_; }
  void set_project(std::string project_id) { project_ = std::move(project_id); }

  /// Scopes the store to a project for its lifetime and restores the previous one after.
  class Scope {
   public:
    Scope(Store& store, std::string project_id)
        : store_(store), previous_(std::exchange(store.project_, std::move(project_id))) {}
    ~Scope() { store_.project_ = std::move(previous_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Store& store_;
    std::string previous_;
  };

  std::optional<boost::json::object> get(const Noun& noun, std::string_view id_or_slug);
  /// get's entity as to_json_text writes it, built without parsing stored JSON fields, and
  /// cached per project, noun and id or slug until the database changes in any way
  /// (storage::Connection::stamp: a write, a rollback, another process's commit). Rows of nouns
  /// with row sources are never cached.
  std::optional<std::string> get_json(const Noun& noun, std::string_view id_or_slug);
  /// get_json's entity without a copy, with its escaped form kept beside it in the cache; null
  /// when there is no such entity. Valid until the next call on this store.
  const EntityJson* entity_json(const Noun& noun, std::string_view id_or_slug);
  bool exists(const Noun& noun, std::string_view id);
  FindResult find(const Noun& noun, const FindQuery& query);
  std::int64_t count(const Noun& noun, const boost::json::object& filter);

  void insert(const Noun& noun, const boost::json::object& entity);
  /// Writes `entity` if the stored version is still `expected_version`; kConflict otherwise.
  void update(const Noun& noun, const boost::json::object& entity, std::int64_t expected_version);
  void remove(const Noun& noun, std::string_view id);

  /// Returns the id of an entity whose unique `field` equals `value`, if any.
  std::optional<std::string> find_unique(const Noun& noun, const Field& field,
                                         std::string_view value);

  std::int64_t append_event(const EventRecord& event);
  /// An entity's events after the one numbered `after_sequence` (0: from its first), oldest
  /// first, at most `limit` of them.
  std::vector<EventRecord> history(std::string_view entity_id, std::int64_t after_sequence = 0,
                                   std::int64_t limit = 100);
  std::vector<EventRecord> events_since(std::int64_t sequence, std::int64_t limit = 100);

  /// Adds rows that find, get and count show as entities of `noun` (read-only: they are not in
  /// its table). A source selects the noun's columns and then its rows' project. The tracking
  /// tables appear as Events this way, with no second write.
  void add_row_source(const std::string& noun, RowSource source);
  using RowSources = std::unordered_map<std::string, std::vector<RowSource>>;
  /// Every noun's row sources, for a read-only store to show the same rows.
  const RowSources& row_sources() const { return sources_; }
  /// Whether the entity `id` (one that get found) is a row of a source, not of the noun's table.
  bool is_derived(const Noun& noun, std::string_view id);

  storage::Connection& db() { return *db_; }
  const Schema& schema() const { return schema_; }

 private:
  /// Indexes of (field, id) for every indexed field and of (createdAt, id).
  void migrate_paging_indexes(const Noun& noun);
  boost::json::object read_row(const Noun& noun, storage::Statement& statement);
  /// The statement of get, stepped by the caller.
  storage::Statement select_one(const Noun& noun, std::string_view id_or_slug);
  /// Drops every SQL text and cached entity built from the schema and the row sources.
  void forget_sql();
  /// The filter with every relation operand given as a slug or key replaced by the target's id.
  boost::json::object resolve_relations(const Noun& noun, const boost::json::object& filter,
                                        int depth = 0);
  void resolve_operand(const Field& field, boost::json::value& operand, const std::string& where);
  const std::string& select_sql(const Noun& noun);
  /// The noun's table, or the union of it with its row sources.
  std::string from_sql(const Noun& noun);
  EventRecord read_event(storage::Statement& statement);
  std::vector<EventRecord> read_events(storage::Statement& statement);

  std::unique_ptr<storage::Connection> db_;
  const Schema& schema_;
  static constexpr std::size_t kMaxCachedJsonBytes = 8 << 20;

  std::unordered_map<std::string, std::string> select_sql_;  ///< per noun; reset by migrate()
  std::unordered_map<std::string, std::string> get_sql_;     ///< per noun; reset by migrate()
  /// get_json's entities, valid while the database is at json_cache_stamp_.
  std::unordered_map<std::string, EntityJson> json_cache_;
  EntityJson uncached_json_;  ///< entity_json's answer for a noun that is never cached
  storage::Connection::Stamp json_cache_stamp_;
  std::size_t json_cache_bytes_ = 0;
  std::string cache_key_;  ///< reused, so that a cache hit allocates nothing for its key
  RowSources sources_;
  std::string project_ = std::string(kDefaultProjectId);
};

/// Renders an event as JSON for tools and hooks.
boost::json::object to_json(const EventRecord& event);

}  // namespace verdict
