#include "core/store.hpp"

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/filter.hpp"
#include "core/json_style.hpp"
#include "core/validator.hpp"

namespace verdict {

namespace json = boost::json;

namespace {

const char* column_type(FieldType type) {
  switch (type) {
    case FieldType::kNumber:
      return "NUMERIC";
    case FieldType::kBoolean:
      return "INTEGER";
    default:
      return "TEXT";
  }
}

void bind_value(storage::Statement& statement, int index, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      statement.bind(index, nullptr);
      break;
    case json::kind::bool_:
      statement.bind(index, value.get_bool() ? 1 : 0);
      break;
    case json::kind::int64:
      statement.bind(index, value.get_int64());
      break;
    case json::kind::uint64:
      statement.bind(index, static_cast<double>(value.get_uint64()));
      break;
    case json::kind::double_:
      statement.bind(index, value.get_double());
      break;
    case json::kind::string:
      statement.bind(index, std::string_view(value.get_string()));
      break;
    default:
      statement.bind(index, json::serialize(value));
      break;
  }
}

// Field values bind by their declared type: json fields are stored as JSON text.
void bind_field(storage::Statement& statement, int index, const Field& field,
                const json::value* value) {
  if (!value || value->is_null()) return (void)statement.bind(index, nullptr);
  // As replies write them, so that get can splice the stored text (is_canonical_json).
  if (field.type == FieldType::kJson) return (void)statement.bind(index, to_json_text(*value));
  bind_value(statement, index, *value);
}

json::value read_number(const storage::Statement& statement, int column) {
  if (statement.column_type(column) == storage::ValueType::kInteger)
    return statement.column_int(column);
  double number = statement.column_double(column);
  // NUMERIC affinity keeps integral values as integers; this catches the rest.
  if (std::trunc(number) == number && std::fabs(number) < 9e15)
    return static_cast<std::int64_t>(number);
  return number;
}

// The column of a field in select_sql: the four meta columns first, then the declared fields.
int column_of(const Noun& noun, std::string_view field) {
  static constexpr std::string_view kMeta[] = {"id", "version", "createdAt", "updatedAt"};
  for (int i = 0; i < 4; ++i)
    if (field == kMeta[i]) return i;
  for (std::size_t i = 0; i < noun.fields.size(); ++i)
    if (noun.fields[i].name == field) return static_cast<int>(i) + 4;
  throw std::logic_error("no column " + std::string(field));
}

// Adds `column` to a table made by an older release: its rows get the column's default.
void add_missing_column(storage::Connection& db, const std::string& table,
                        const std::string& column, const std::string& declaration) {
  auto info = db.prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  info.bind(1, table).bind(2, column);
  if (!info.step())
    db.exec("ALTER TABLE " + quote_identifier(table) + " ADD COLUMN " + quote_identifier(column) +
            " " + declaration);
}

// Rows written before projects existed belong to the default project.
std::string project_column() {
  return "TEXT NOT NULL DEFAULT '" + std::string(kDefaultProjectId) + "'";
}

// A keyset cursor: the query's fingerprint and the sort-key values of the page's last row, each
// tagged with its SQLite type (doubles by their bits, so they compare equal when bound back),
// hex-encoded so that clients treat it as opaque.
std::string encode_cursor(std::size_t fingerprint, const storage::Statement& row,
                          const std::vector<int>& columns) {
  std::string payload = std::to_string(fingerprint % 1000000007) + "|";
  for (int column : columns) {
    switch (row.column_type(column)) {
      case storage::ValueType::kNull:
        payload += "n|";
        break;
      case storage::ValueType::kInteger:
        payload += "i" + std::to_string(row.column_int(column)) + "|";
        break;
      case storage::ValueType::kFloat:
        payload +=
            "f" + std::to_string(std::bit_cast<std::int64_t>(row.column_double(column))) + "|";
        break;
      default: {
        std::string text = row.column_text(column);
        payload += "s" + std::to_string(text.size()) + ":" + text + "|";
      }
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string cursor;
  cursor.reserve(payload.size() * 2);
  for (unsigned char c : payload) {
    cursor += kHex[c >> 4];
    cursor += kHex[c & 15];
  }
  return cursor;
}

// Calls `sink` with a row of select_sql in the order get's objects have always had: id, the
// fields in declaration order (NULLs left out), then version, createdAt, updatedAt.
template <typename Sink>
void visit_row(const Noun& noun, const storage::Statement& statement, Sink& sink) {
  sink.text("id", statement.column_view(0));
  for (std::size_t i = 0; i < noun.fields.size(); ++i) {
    int column = static_cast<int>(i) + 4;
    if (statement.is_null(column)) continue;
    const Field& field = noun.fields[i];
    switch (field.type) {
      case FieldType::kNumber:
        sink.value(field.name, read_number(statement, column));
        break;
      case FieldType::kBoolean:
        sink.value(field.name, statement.column_int(column) != 0);
        break;
      case FieldType::kJson:
        sink.json_text(field.name, statement.column_view(column));
        break;
      default:
        sink.text(field.name, statement.column_view(column));
    }
  }
  sink.value("version", statement.column_int(1));
  sink.text("createdAt", statement.column_view(2));
  sink.text("updatedAt", statement.column_view(3));
}

// Whether stored JSON text is already what to_json_text writes, so a reply can splice it: true
// unless a number has an exponent, which Boost.JSON writes for every double (`5E-1`; files from
// before json fields were stored as to_json_text) and to_json_text only outside 1e-6..1e21.
bool is_canonical_json(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if ((c == 'e' || c == 'E') && i > 0 &&
               (std::isdigit(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.')) {
      return false;
    }
  }
  return true;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The sort-key values of a cursor, or nullopt when it is not one of this query's cursors.
std::optional<std::vector<json::value>> parse_cursor(const std::string& cursor,
                                                     std::size_t fingerprint, std::size_t keys) {
  if (cursor.size() % 2 != 0) return std::nullopt;
  std::string payload;
  payload.reserve(cursor.size() / 2);
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    int byte = 0;
    auto [end, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, byte, 16);
    if (ec != std::errc() || end != cursor.data() + i + 2) return std::nullopt;
    payload += static_cast<char>(byte);
  }
  std::string_view rest = payload;
  std::string prefix = std::to_string(fingerprint % 1000000007) + "|";
  if (!rest.starts_with(prefix)) return std::nullopt;
  rest.remove_prefix(prefix.size());
  std::vector<json::value> values;
  while (!rest.empty()) {
    char tag = rest.front();
    rest.remove_prefix(1);
    if (tag == 's') {
      auto colon = rest.find(':');
      auto size = parse_int(rest.substr(0, colon));
      if (colon == std::string_view::npos || !size || *size < 0 ||
          rest.size() - colon - 1 <= static_cast<std::size_t>(*size))
        return std::nullopt;
      rest.remove_prefix(colon + 1);
      values.emplace_back(rest.substr(0, static_cast<std::size_t>(*size)));
      rest.remove_prefix(static_cast<std::size_t>(*size));
    } else {
      auto bar = rest.find('|');
      if (bar == std::string_view::npos) return std::nullopt;
      std::string_view number = rest.substr(0, bar);
      rest.remove_prefix(bar);
      if (tag == 'n' && number.empty()) {
        values.emplace_back(nullptr);
      } else if (auto integer = parse_int(number); integer && tag == 'i') {
        values.emplace_back(*integer);
      } else if (integer && tag == 'f') {
        values.emplace_back(std::bit_cast<double>(*integer));
      } else {
        return std::nullopt;
      }
    }
    if (!rest.starts_with('|')) return std::nullopt;
    rest.remove_prefix(1);
  }
  if (values.size() != keys) return std::nullopt;
  return values;
}

// The rows after the cursor's, in the order of `keys`: lexicographic on the keys, with NULL
// before every value (SQLite's order, so first under ASC and last under DESC). Meta columns are
// never NULL.
SqlCondition keyset_condition(const std::vector<SortKey>& keys,
                              const std::vector<json::value>& values) {
  SqlCondition condition;
  bool ascending = true, descending = true;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ascending = ascending && !keys[i].descending && !values[i].is_null();
    descending = descending && keys[i].descending && is_meta_field(keys[i].field);
  }
  if (ascending || descending) {
    // One row-value comparison is a range the planner seeks in an index on the keys. Under
    // DESC it holds only for keys that are never NULL (meta fields): NULLs sort last there.
    std::string columns, marks;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      columns += (i ? ", " : "") + quote_identifier(keys[i].field);
      marks += i ? ", ?" : "?";
      condition.params.push_back(values[i]);
    }
    condition.sql = "(" + columns + (ascending ? ") > (" : ") < (") + marks + ")";
    return condition;
  }
  std::string equal_prefix;
  std::vector<json::value> prefix_params;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string column = quote_identifier(keys[i].field);
    bool never_null = is_meta_field(keys[i].field);
    std::string after;
    std::vector<json::value> after_params;
    if (values[i].is_null()) {
      after = keys[i].descending ? "FALSE" : column + " IS NOT NULL";
    } else {
      after = column + (keys[i].descending ? " < ?" : " > ?");
      if (keys[i].descending && !never_null) after = "(" + after + " OR " + column + " IS NULL)";
      after_params.push_back(values[i]);
    }
    condition.sql += std::string(i ? " OR " : "") + "(" + equal_prefix + after + ")";
    condition.params.insert(condition.params.end(), prefix_params.begin(), prefix_params.end());
    condition.params.insert(condition.params.end(), after_params.begin(), after_params.end());
    if (values[i].is_null()) {
      equal_prefix += column + " IS NULL AND ";
    } else {
      equal_prefix += column + " = ? AND ";
      prefix_params.push_back(values[i]);
    }
  }
  condition.sql = "(" + condition.sql + ")";
  return condition;
}

}  // namespace

json::object to_json(const EventRecord& event) {
  json::object out;
  out["sequence"] = event.sequence;
  out["type"] = event.type;
  out["noun"] = event.noun;
  out["entityId"] = event.entity_id;
  out["verb"] = event.verb;
  out["data"] = event.data;
  if (!event.actor.empty()) out["actor"] = event.actor;
  if (!event.key_id.empty()) out["key"] = {{"id", event.key_id}, {"name", event.key_name}};
  out["at"] = event.at;
  return out;
}

Store::Store(const std::string& location, const Schema& schema, storage::OpenMode mode)
    : db_(storage::open(location, mode)), schema_(schema) {}

Store::Store(const std::string& location, const Schema& schema)
    : db_(storage::open(location)), schema_(schema) {
  db_->exec(R"(
    CREATE TABLE IF NOT EXISTS event_log (
      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL, noun TEXT NOT NULL, entity_id TEXT NOT NULL, verb TEXT NOT NULL,
      data TEXT NOT NULL, actor TEXT, at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS event_log_entity ON event_log(entity_id, sequence);
    CREATE TRIGGER IF NOT EXISTS event_log_no_update BEFORE UPDATE ON event_log
      BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS event_log_no_delete BEFORE DELETE ON event_log
      BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;)");
  add_missing_column(*db_, "event_log", "project", project_column());
  add_missing_column(*db_, "event_log", "key_id", "TEXT");
  add_missing_column(*db_, "event_log", "key_name", "TEXT");
  db_->exec("CREATE INDEX IF NOT EXISTS event_log_project ON event_log(project, sequence)");
  migrate();
}

void Store::migrate() {
  forget_sql();
  for (const auto& noun : schema_.nouns()) {
    std::string table = quote_identifier(noun->table);
    db_->exec(
        "CREATE TABLE IF NOT EXISTS " + table +
        " (\"id\" TEXT PRIMARY KEY, \"version\" INTEGER NOT NULL, \"createdAt\" TEXT NOT NULL,"
        " \"updatedAt\" TEXT NOT NULL, \"project\" " +
        project_column() + ")");
    add_missing_column(*db_, noun->table, "project", project_column());
    std::set<std::string> columns;
    {
      auto info = db_->prepare("SELECT name FROM pragma_table_info(?)");
      info.bind(1, noun->table);
      while (info.step()) columns.insert(info.column_text(0));
    }
    for (const auto& field : noun->fields) {
      if (!columns.contains(field.name))
        db_->exec("ALTER TABLE " + table + " ADD COLUMN " + quote_identifier(field.name) + " " +
                  column_type(field.type));
      std::string index = quote_identifier(noun->table + "_" + field.name);
      if (field.unique) {
        // Unique per project: (field, project) also serves lookups by the field alone. Files
        // from before projects have a unique index on the field alone, which would keep two
        // projects from using one slug.
        db_->exec("DROP INDEX IF EXISTS " + index);
        db_->exec("CREATE UNIQUE INDEX IF NOT EXISTS " +
                  quote_identifier(noun->table + "_" + field.name + "_project") + " ON " + table +
                  "(" + quote_identifier(field.name) + ", \"project\")");
      }
    }
    migrate_paging_indexes(*noun);
  }
}

void Store::migrate_paging_indexes(const Noun& noun) {
  // A filter on an indexed field and the id order that pages it, or the createdAt order, are
  // served by one index: the first page is a seek, not a sort of every match. Every query is
  // scoped to one project, so each index leads with it. A unique field matches one row, so its
  // unique index is enough.
  std::string table = quote_identifier(noun.table);
  db_->exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(noun.table + "_project_id") + " ON " +
            table + "(\"project\", \"id\")");
  auto create = [&](const std::string& field) {
    db_->exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(noun.table + "_" + field + "_id") +
              " ON " + table + "(\"project\", " + quote_identifier(field) + ", \"id\")");
  };
  create("createdAt");
  for (const auto& field : noun.fields) {
    if (!field.indexed || field.unique) continue;
    create(field.name);
    // The single-column index of earlier versions is superseded by the new one.
    db_->exec("DROP INDEX IF EXISTS " + quote_identifier(noun.table + "_" + field.name));
  }
}

void Store::add_row_source(const std::string& noun, RowSource source) {
  sources_[noun].push_back(std::move(source));
  forget_sql();
}

void Store::forget_sql() {
  // A new column or source changes what get returns, without changing any row.
  select_sql_.clear();
  get_sql_.clear();
  json_cache_.clear();
  json_cache_bytes_ = 0;
}

bool Store::is_derived(const Noun& noun, std::string_view id) {
  return sources_.contains(noun.name) && !exists(noun, id);
}

std::string Store::from_sql(const Noun& noun) {
  auto sources = sources_.find(noun.name);
  if (sources == sources_.end()) return quote_identifier(noun.table);
  std::string columns = "\"id\", \"version\", \"createdAt\", \"updatedAt\"";
  for (const auto& field : noun.fields) columns += ", " + quote_identifier(field.name);
  columns += ", \"project\"";
  // UNION ALL in a FROM subquery: SQLite pushes the caller's WHERE into every branch, so each
  // source is searched with its own indexes.
  std::string sql = "(SELECT " + columns + " FROM " + quote_identifier(noun.table);
  for (const auto& source : sources->second) sql += " UNION ALL " + source(noun);
  return sql + ") AS " + quote_identifier(noun.table);
}

const std::string& Store::select_sql(const Noun& noun) {
  // Built once per noun: the statement cache is keyed by this text, and get() is the hot path.
  auto& sql = select_sql_[noun.name];
  if (sql.empty()) {
    sql = "SELECT \"id\", \"version\", \"createdAt\", \"updatedAt\"";
    for (const auto& field : noun.fields) sql += ", " + quote_identifier(field.name);
    sql += " FROM " + from_sql(noun);
  }
  return sql;
}

json::object Store::read_row(const Noun& noun, storage::Statement& statement) {
  struct ObjectSink {
    json::object entity;
    void text(std::string_view name, std::string_view value) { entity[name] = value; }
    void value(std::string_view name, json::value value) { entity[name] = std::move(value); }
    void json_text(std::string_view name, std::string_view text) {
      entity[name] = json::parse(text);
    }
  } sink;
  visit_row(noun, statement, sink);
  return std::move(sink.entity);
}

storage::Statement Store::select_one(const Noun& noun, std::string_view id_or_slug) {
  // Built once per noun: the statement cache is keyed by this text, and get is the hot path.
  std::string& sql = get_sql_[noun.name];
  const Field* lookup = noun.lookup_field();
  if (sql.empty()) {
    sql = select_sql(noun) + " WHERE \"project\" = ? AND (\"id\" = ?";
    if (lookup) sql += " OR " + quote_identifier(lookup->name) + " = ?";
    // No ORDER BY to prefer the id over an equal key: a sort costs a temporary b-tree on the
    // hot path, and slugs cannot look like ids (no `_`).
    sql += ") LIMIT 1";
  }
  auto statement = db_->prepare(sql);
  statement.bind(1, project_).bind(2, id_or_slug);
  if (lookup) statement.bind(3, id_or_slug);
  return statement;
}

std::optional<json::object> Store::get(const Noun& noun, std::string_view id_or_slug) {
  auto statement = select_one(noun, id_or_slug);
  if (!statement.step()) return std::nullopt;
  return read_row(noun, statement);
}

std::optional<std::string> Store::get_json(const Noun& noun, std::string_view id_or_slug) {
  // Rows of a source belong to other modules (keys, tracked events), which may change them
  // without a trace here: only a noun's own table is cached.
  bool cacheable = !sources_.contains(noun.name);
  if (cacheable) {
    if (storage::Connection::Stamp stamp = db_->stamp(); stamp != json_cache_stamp_) {
      json_cache_.clear();
      json_cache_bytes_ = 0;
      json_cache_stamp_ = stamp;
    }
    // The project is part of the key: another project's caller never sees this entry.
    cache_key_.assign(project_).append(1, '\n').append(noun.name).append(1, '\n');
    cache_key_.append(id_or_slug);
    if (auto hit = json_cache_.find(cache_key_); hit != json_cache_.end()) return hit->second;
  }
  auto statement = select_one(noun, id_or_slug);
  if (!statement.step()) return std::nullopt;
  struct TextSink {
    std::string out = "{";
    void name(std::string_view name) {
      if (out.size() > 1) out += ',';
      append_json_string(out, name);
      out += ':';
    }
    void text(std::string_view field, std::string_view value) {
      name(field);
      append_json_string(out, value);
    }
    void value(std::string_view field, const json::value& value) {
      name(field);
      append_json_text(out, value);
    }
    void json_text(std::string_view field, std::string_view text) {
      name(field);
      if (is_canonical_json(text)) {
        out += text;
      } else {
        append_json_text(out, json::parse(text));
      }
    }
  } sink;
  visit_row(noun, statement, sink);
  sink.out += '}';
  if (cacheable && sink.out.size() <= kMaxCachedJsonBytes / 16) {
    if (json_cache_bytes_ + sink.out.size() > kMaxCachedJsonBytes) {
      json_cache_.clear();
      json_cache_bytes_ = 0;
    }
    json_cache_bytes_ += cache_key_.size() + sink.out.size();
    json_cache_.emplace(cache_key_, sink.out);
  }
  return std::move(sink.out);
}

bool Store::exists(const Noun& noun, std::string_view id) {
  auto statement = db_->prepare("SELECT 1 FROM " + quote_identifier(noun.table) +
                                " WHERE \"id\" = ? AND \"project\" = ?");
  statement.bind(1, id).bind(2, project_);
  return statement.step();
}

std::optional<std::string> Store::find_unique(const Noun& noun, const Field& field,
                                              std::string_view value) {
  auto statement = db_->prepare("SELECT \"id\" FROM " + quote_identifier(noun.table) + " WHERE " +
                                quote_identifier(field.name) + " = ? AND \"project\" = ?");
  statement.bind(1, value).bind(2, project_);
  if (!statement.step()) return std::nullopt;
  return statement.column_text(0);
}

void Store::resolve_operand(const Field& field, json::value& operand, const std::string& where) {
  if (!operand.is_string()) return;
  std::string_view text = operand.get_string();
  if (field.target == "*") {
    // Any noun: an id names its noun; otherwise the first noun with that slug or key.
    if (schema_.noun_for_id(text)) return;
    for (const auto& noun : schema_.nouns())
      if (const Field* lookup = noun->lookup_field())
        if (auto id = find_unique(*noun, *lookup, text)) return (void)(operand = *id);
    invalid(where, "no entity with id, slug or key '" + std::string(text.substr(0, 100)) + "'");
  }
  const Noun* target = schema_.find(field.target);
  if (!target || text.starts_with(target->id_prefix + "_")) return;
  const Field* lookup = target->lookup_field();
  std::optional<std::string> id;
  if (lookup) id = find_unique(*target, *lookup, text);
  if (!id)
    invalid(where, "no " + target->name + " with id" + (lookup ? " or " + lookup->name : "") +
                       " '" + std::string(text.substr(0, 100)) + "'");
  operand = *id;
}

json::object Store::resolve_relations(const Noun& noun, const json::object& filter, int depth) {
  // Deeper filters are refused by compile_filter; there is nothing to resolve in them.
  if (depth > 16) return filter;
  json::object resolved = filter;
  for (auto& [key, value] : resolved) {
    if (key == "$and" || key == "$or" || key == "$nor") {
      if (!value.is_array()) continue;
      for (auto& sub : value.get_array())
        if (sub.is_object()) sub = resolve_relations(noun, sub.get_object(), depth + 1);
      continue;
    }
    const Field* field = noun.field(key);
    if (!field || field->type != FieldType::kRelation) continue;
    std::string where = "filter." + std::string(key);
    if (!value.is_object()) {
      resolve_operand(*field, value, where);
      continue;
    }
    for (auto& [op, operand] : value.get_object()) {
      if (op == "$in" || op == "$nin") {
        if (!operand.is_array()) continue;
        for (auto& item : operand.get_array())
          resolve_operand(*field, item, where + "." + std::string(op));
      } else if (op == "$eq" || op == "$ne") {
        resolve_operand(*field, operand, where + "." + std::string(op));
      }
    }
  }
  return resolved;
}

FindResult Store::find(const Noun& noun, const FindQuery& query) {
  if (query.limit < 1 || query.limit > kMaxLimit) invalid("limit", "must be between 1 and 1000");
  SqlCondition where = compile_filter(noun, resolve_relations(noun, query.filter));
  std::vector<SortKey> keys = parse_sort(noun, query.sort);
  std::string order = order_by(keys);
  std::size_t fingerprint = std::hash<std::string>{}(project_ + "|" + noun.name + "|" +
                                                     json::serialize(query.filter) + "|" + order);
  std::string sql = select_sql(noun) + " WHERE \"project\" = ? AND (" + where.sql + ")";
  where.params.insert(where.params.begin(), json::value(project_));
  if (!query.cursor.empty()) {
    // Keyset paging: the next page starts after the last row's sort keys, so its cost does
    // not grow with the page number as an OFFSET's does.
    auto values = parse_cursor(query.cursor, fingerprint, keys.size());
    if (!values) invalid("cursor", "not a cursor from this query (pass back nextCursor unchanged)");
    SqlCondition after = keyset_condition(keys, *values);
    sql += " AND " + after.sql;
    where.params.insert(where.params.end(), after.params.begin(), after.params.end());
  }
  std::vector<int> key_columns;
  for (const auto& key : keys) key_columns.push_back(column_of(noun, key.field));

  // One extra row tells whether another page exists without a COUNT.
  auto statement = db_->prepare(sql + " ORDER BY " + order + " LIMIT ?");
  int index = 1;
  for (const auto& param : where.params) bind_value(statement, index++, param);
  statement.bind(index, query.limit + 1);
  FindResult result;
  std::string last_row_cursor;
  try {
    while (statement.step()) {
      if (static_cast<std::int64_t>(result.items.size()) == query.limit) {
        result.next_cursor = std::move(last_row_cursor);
        break;
      }
      result.items.push_back(read_row(noun, statement));
      if (static_cast<std::int64_t>(result.items.size()) == query.limit)
        last_row_cursor = encode_cursor(fingerprint, statement, key_columns);
    }
  } catch (const storage::StorageError& error) {
    // The REGEXP function gives up on matches beyond its complexity bounds: a bound the
    // caller's pattern hit, not a storage failure.
    if (error.reason().starts_with("$regex"))
      throw Error(ErrorCode::kLimitExceeded, "filter: " + error.reason(), "filter");
    throw;
  }
  return result;
}

std::int64_t Store::count(const Noun& noun, const json::object& filter) {
  SqlCondition where = compile_filter(noun, resolve_relations(noun, filter));
  auto statement = db_->prepare("SELECT COUNT(*) FROM " + from_sql(noun) +
                                " WHERE \"project\" = ? AND (" + where.sql + ")");
  statement.bind(1, project_);
  int index = 2;
  for (const auto& param : where.params) bind_value(statement, index++, param);
  statement.step();
  return statement.column_int(0);
}

void Store::insert(const Noun& noun, const json::object& entity) {
  std::string columns = "\"id\", \"version\", \"createdAt\", \"updatedAt\", \"project\"";
  std::string values = "?, ?, ?, ?, ?";
  for (const auto& field : noun.fields) {
    columns += ", " + quote_identifier(field.name);
    values += ", ?";
  }
  auto statement = db_->prepare("INSERT INTO " + quote_identifier(noun.table) + " (" + columns +
                                ") VALUES (" + values + ")");
  statement.bind(1, std::string_view(entity.at("id").get_string()));
  statement.bind(2, entity.at("version").to_number<std::int64_t>());
  statement.bind(3, std::string_view(entity.at("createdAt").get_string()));
  statement.bind(4, std::string_view(entity.at("updatedAt").get_string()));
  statement.bind(5, project_);
  int index = 6;
  for (const auto& field : noun.fields)
    bind_field(statement, index++, field, entity.if_contains(field.name));
  statement.run();
}

void Store::update(const Noun& noun, const json::object& entity, std::int64_t expected_version) {
  std::string assignments = "\"version\" = ?, \"updatedAt\" = ?";
  for (const auto& field : noun.fields) assignments += ", " + quote_identifier(field.name) + " = ?";
  auto statement = db_->prepare("UPDATE " + quote_identifier(noun.table) + " SET " + assignments +
                                " WHERE \"id\" = ? AND \"version\" = ? AND \"project\" = ?");
  statement.bind(1, entity.at("version").to_number<std::int64_t>());
  statement.bind(2, std::string_view(entity.at("updatedAt").get_string()));
  int index = 3;
  for (const auto& field : noun.fields)
    bind_field(statement, index++, field, entity.if_contains(field.name));
  statement.bind(index++, std::string_view(entity.at("id").get_string()));
  statement.bind(index++, expected_version);
  statement.bind(index, project_);
  statement.run();
  if (db_->changes() != 1)
    throw Error(ErrorCode::kConflict,
                "version: " + noun.name + " " + std::string(entity.at("id").get_string()) +
                    " changed since version " + std::to_string(expected_version) +
                    "; get it again and retry",
                "version");
}

void Store::remove(const Noun& noun, std::string_view id) {
  auto statement = db_->prepare("DELETE FROM " + quote_identifier(noun.table) +
                                " WHERE \"id\" = ? AND \"project\" = ?");
  statement.bind(1, id).bind(2, project_);
  statement.run();
}

std::int64_t Store::append_event(const EventRecord& event) {
  auto statement = db_->prepare(
      "INSERT INTO event_log (type, noun, entity_id, verb, data, actor, at, project, key_id,"
      " key_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING sequence");
  statement.bind(1, event.type).bind(2, event.noun).bind(3, event.entity_id).bind(4, event.verb);
  statement.bind(5, json::serialize(event.data));
  if (event.actor.empty()) {
    statement.bind(6, nullptr);
  } else {
    statement.bind(6, event.actor);
  }
  statement.bind(7, event.at.empty() ? now_iso8601() : event.at);
  statement.bind(8, project_);
  for (auto [index, text] : {std::pair{9, &event.key_id}, std::pair{10, &event.key_name}}) {
    if (text->empty()) {
      statement.bind(index, nullptr);
    } else {
      statement.bind(index, *text);
    }
  }
  statement.step();
  return statement.column_int(0);
}

EventRecord Store::read_event(storage::Statement& statement) {
  EventRecord event;
  event.sequence = statement.column_int(0);
  event.type = statement.column_text(1);
  event.noun = statement.column_text(2);
  event.entity_id = statement.column_text(3);
  event.verb = statement.column_text(4);
  event.data = json::parse(statement.column_text(5)).as_object();
  event.actor = statement.column_text(6);
  event.at = statement.column_text(7);
  event.key_id = statement.column_text(8);
  event.key_name = statement.column_text(9);
  return event;
}

std::vector<EventRecord> Store::read_events(storage::Statement& statement) {
  std::vector<EventRecord> events;
  while (statement.step()) events.push_back(read_event(statement));
  return events;
}

std::vector<EventRecord> Store::history(std::string_view entity_id, std::int64_t after_sequence,
                                        std::int64_t limit) {
  auto statement = db_->prepare(
      "SELECT sequence, type, noun, entity_id, verb, data, actor, at, key_id, key_name"
      " FROM event_log WHERE entity_id = ? AND project = ? AND sequence > ? ORDER BY sequence"
      " LIMIT ?");
  statement.bind(1, entity_id).bind(2, project_).bind(3, after_sequence).bind(4, limit);
  return read_events(statement);
}

std::vector<EventRecord> Store::events_since(std::int64_t sequence, std::int64_t limit) {
  auto statement = db_->prepare(
      "SELECT sequence, type, noun, entity_id, verb, data, actor, at, key_id, key_name"
      " FROM event_log WHERE project = ? AND sequence > ? ORDER BY sequence LIMIT ?");
  statement.bind(1, project_).bind(2, sequence).bind(3, limit);
  return read_events(statement);
}

}  // namespace verdict
