#include "core/migrate.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <optional>
#include <set>
#include <variant>

#include "core/access/caller.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/filter.hpp"
#include "core/storage/catalog.hpp"
#include "core/storage/sqlite_connection.hpp"

namespace verdict::storage {

namespace {

// Rows per INSERT, within the protocol's 65535 parameters per statement.
constexpr std::size_t kBatchRows = 1000;
constexpr std::size_t kMaxParameters = 65535;
// Rows compared per page: neither engine holds a whole table in memory (libpq fetches a
// statement's every row at once).
constexpr std::size_t kPageRows = 5000;

struct Column {
  std::string name;
  std::string type;  ///< as SQLite declares it
  bool not_null = false;
  std::optional<std::string> default_sql;
  int key = 0;  ///< position in the primary key; 0 when not in it
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> references;  ///< tables its foreign keys name
  std::vector<int> keys;                ///< the primary key's columns, in its order
};

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using Row = std::vector<Value>;

Value read_value(const Statement& row, int column) {
  switch (row.column_type(column)) {
    case ValueType::kNull:
      return nullptr;
    case ValueType::kInteger:
      return row.column_int(column);
    case ValueType::kFloat:
      return row.column_double(column);
    default:
      return row.column_text(column);
  }
}

void bind_typed(Statement& statement, int index, const Value& value) {
  std::visit([&](const auto& v) { statement.bind(index, v); }, value);
}

// Numbers as the shortest text that reads back as the same value: PostgreSQL parses it by the
// column's type, so an insert's binding types never change from batch to batch (a NULL or an
// integer in a REAL column would make PostgreSQL prepare it again, and keep each variant).
void bind_as_text(Statement& statement, int index, const Value& value) {
  if (std::holds_alternative<std::string>(value))
    return (void)statement.bind(index, std::get<std::string>(value));
  if (std::holds_alternative<std::nullptr_t>(value)) return (void)statement.bind(index, nullptr);
  char buffer[32];
  auto [end, error] =
      std::holds_alternative<double>(value)
          ? std::to_chars(buffer, buffer + sizeof buffer, std::get<double>(value))
          : std::to_chars(buffer, buffer + sizeof buffer, std::get<std::int64_t>(value));
  statement.bind(index, std::string_view(buffer, error == std::errc() ? end : buffer));
}

std::optional<long double> number_of(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
  if (const auto* real = std::get_if<double>(&value)) return *real;
  return std::nullopt;
}

// Numbers compare by value (SQLite keeps 3 in a NUMERIC column as an integer, PostgreSQL's
// DOUBLE PRECISION as 3.0), text byte by byte, NULL only with NULL.
bool same(const Value& a, const Value& b) {
  if (a.index() == b.index()) return a == b;
  auto x = number_of(a), y = number_of(b);
  return x && y && *x == *y;
}

std::string describe(const Value& value) {
  if (std::holds_alternative<std::nullptr_t>(value)) return "NULL";
  if (const auto* text = std::get_if<std::string>(&value))
    return "'" + text->substr(0, 80) + (text->size() > 80 ? "...'" : "'");
  char buffer[32];
  auto [end, error] =
      std::holds_alternative<double>(value)
          ? std::to_chars(buffer, buffer + sizeof buffer, std::get<double>(value))
          : std::to_chars(buffer, buffer + sizeof buffer, std::get<std::int64_t>(value));
  return std::string(buffer, error == std::errc() ? end : buffer);
}

// Every table of the SQLite file, built-in or made for a noun that hooks declared, with its
// columns as they are (sqlite_* tables are SQLite's own).
std::vector<Table> source_tables(Connection& db) {
  std::vector<Table> tables;
  auto names = db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
      " ESCAPE '\\' ORDER BY name");
  while (names.step()) tables.push_back({.name = names.column_text(0)});
  for (auto& table : tables) {
    auto columns = db.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid");
    columns.bind(1, table.name);
    while (columns.step())
      table.columns.push_back(
          {columns.column_text(0), columns.column_text(1), columns.column_int(2) != 0,
           columns.is_null(3) ? std::nullopt : std::optional(columns.column_text(3)),
           static_cast<int>(columns.column_int(4))});
    for (int key = 1;; ++key) {
      auto column = std::ranges::find(table.columns, key, &Column::key);
      if (column == table.columns.end()) break;
      table.keys.push_back(static_cast<int>(column - table.columns.begin()));
    }
    auto references = db.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)");
    references.bind(1, table.name);
    while (references.step()) table.references.push_back(references.column_text(0));
  }
  return tables;
}

// Referenced tables before the tables that reference them (api_key after project), so that
// PostgreSQL's foreign keys hold at every insert.
std::vector<Table> in_dependency_order(std::vector<Table> tables) {
  std::vector<Table> ordered;
  std::set<std::string> pending;
  for (const auto& table : tables) pending.insert(table.name);
  while (!tables.empty()) {
    auto ready = std::ranges::find_if(tables, [&](const Table& table) {
      return std::ranges::none_of(table.references, [&](const std::string& name) {
        return name != table.name && pending.contains(name);
      });
    });
    // A cycle of foreign keys: no order satisfies it, and PostgreSQL names the one that fails.
    if (ready == tables.end()) ready = tables.begin();
    pending.erase(ready->name);
    ordered.push_back(std::move(*ready));
    tables.erase(ready);
  }
  return ordered;
}

// A SQLite declared type as the PostgreSQL column type of the same affinity (SQLite's rules,
// section 3.1 of its datatype page); NUMERIC as DOUBLE PRECISION, as Store declares numbers.
std::string_view postgres_type(std::string type) {
  std::ranges::transform(type, type.begin(), [](unsigned char c) { return std::toupper(c); });
  auto has = [&](std::string_view word) { return type.find(word) != std::string::npos; };
  if (has("INT")) return integer_type(Backend::kPostgres);
  if (has("CHAR") || has("CLOB") || has("TEXT") || has("BLOB") || type.empty())
    return text_type(Backend::kPostgres);
  return real_type(Backend::kPostgres);
}

std::string create_sql(const Table& table) {
  std::string sql = "CREATE TABLE " + quote_identifier(table.name) + " (";
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const Column& column = table.columns[i];
    sql += (i ? ", " : "") + quote_identifier(column.name) + " " +
           std::string(postgres_type(column.type));
    if (column.not_null) sql += " NOT NULL";
    if (column.default_sql) sql += " DEFAULT " + *column.default_sql;
  }
  if (!table.keys.empty()) {
    sql += ", PRIMARY KEY (";
    for (std::size_t i = 0; i < table.keys.size(); ++i)
      sql += (i ? ", " : "") + quote_identifier(table.columns[table.keys[i]].name);
    sql += ")";
  }
  return sql + ")";
}

std::string column_list(const Table& table) {
  std::string list;
  for (const auto& column : table.columns)
    list += (list.empty() ? "" : ", ") + quote_identifier(column.name);
  return list;
}

// Refuses a target that already holds something of Verdict's, before a row is written. The
// `default` project is made by opening any store: the source's replaces it.
void require_empty(Connection& target, const std::vector<Table>& tables) {
  for (const auto& table : tables) {
    if (!has_table(target, table.name)) continue;
    std::set<std::string> columns = table_columns(target, table.name);
    for (const auto& column : table.columns)
      if (!columns.contains(column.name))
        throw Error(ErrorCode::kConflict,
                    "to: table '" + table.name + "' has no column '" + column.name +
                        "', which the source's has; a noun that hooks declared differs between "
                        "them",
                    "to");
    bool project = table.name == "project";
    auto count = target.prepare("SELECT COUNT(*) FROM " + quote_identifier(table.name) +
                                (project ? " WHERE id <> ?" : ""));
    if (project) count.bind(1, kDefaultProjectId);
    count.step();
    if (std::int64_t rows = count.column_int(0); rows > 0)
      throw Error(ErrorCode::kConflict,
                  "to: table '" + table.name + "' already holds " + std::to_string(rows) +
                      (rows == 1 ? " row" : " rows") +
                      "; migrate copies into an empty database or schema only, so that nothing "
                      "is merged or duplicated",
                  "to");
  }
}

std::int64_t copy_rows(Connection& source, Connection& target, const Table& table) {
  const std::string name = quote_identifier(table.name);
  const std::string columns = column_list(table);
  const std::size_t width = table.columns.size();
  const std::size_t batch = std::clamp<std::size_t>(kMaxParameters / width, 1, kBatchRows);
  auto insert_sql = [&](std::size_t rows) {
    std::string row = "(?";
    for (std::size_t i = 1; i < width; ++i) row += ", ?";
    row += ")";
    std::string sql = "INSERT INTO " + name + " (" + columns + ") VALUES ";
    for (std::size_t i = 0; i < rows; ++i) sql += (i ? ", " : "") + row;
    return sql;
  };
  const std::string full_batch = insert_sql(batch);
  std::vector<Value> pending;
  pending.reserve(batch * width);
  auto flush = [&] {
    std::size_t rows = pending.size() / width;
    if (rows == 0) return;
    auto insert = target.prepare(rows == batch ? full_batch : insert_sql(rows));
    for (std::size_t i = 0; i < pending.size(); ++i)
      bind_as_text(insert, static_cast<int>(i) + 1, pending[i]);
    insert.run();
    pending.clear();
  };
  auto select = source.prepare("SELECT " + columns + " FROM " + name);
  std::int64_t copied = 0;
  while (select.step()) {
    for (std::size_t i = 0; i < width; ++i)
      pending.push_back(read_value(select, static_cast<int>(i)));
    ++copied;
    if (pending.size() == batch * width) flush();
  }
  flush();
  return copied;
}

// Identity columns (event_log.sequence) kept the source's numbers: the next number drawn must
// follow the largest, or the next append would collide with a copied row.
void advance_identities(Connection& target, const std::vector<Table>& tables) {
  std::vector<std::pair<std::string, std::string>> identities;
  auto columns = target.prepare(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema ="
      " current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')");
  while (columns.step()) identities.emplace_back(columns.column_text(0), columns.column_text(1));
  for (const auto& [table, column] : identities) {
    // By name, not by capturing the binding: clang 14 (the fuzzers' compiler) cannot capture one.
    const std::string& name = table;
    if (std::ranges::none_of(tables, [&](const Table& t) { return t.name == name; })) continue;
    auto advance = target.prepare(
        "SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(" +
        quote_identifier(column) + ") FROM " + quote_identifier(table) + "), 0) + 1, false)");
    advance.bind(1, quote_identifier(table)).bind(2, column);
    advance.run();
  }
}

// A page of rows in primary-key order (every column's, for a table without a key, read whole),
// after the key values `after` when given.
std::vector<Row> read_page(Connection& db, const Table& table, const Row* after) {
  std::vector<int> order = table.keys;
  if (order.empty())
    for (std::size_t i = 0; i < table.columns.size(); ++i) order.push_back(static_cast<int>(i));
  std::string keys;
  for (int key : order)
    keys += (keys.empty() ? "" : ", ") + quote_identifier(table.columns[key].name);
  std::string sql = "SELECT " + column_list(table) + " FROM " + quote_identifier(table.name);
  if (after) {
    std::string marks = "?";
    for (std::size_t i = 1; i < after->size(); ++i) marks += ", ?";
    sql += " WHERE (" + keys + ") > (" + marks + ")";
  }
  sql += " ORDER BY " + keys;
  if (!table.keys.empty()) sql += " LIMIT " + std::to_string(kPageRows);
  auto select = db.prepare(sql);
  if (after)
    for (std::size_t i = 0; i < after->size(); ++i)
      bind_typed(select, static_cast<int>(i) + 1, (*after)[i]);
  std::vector<Row> rows;
  while (select.step()) {
    Row& row = rows.emplace_back();
    for (std::size_t i = 0; i < table.columns.size(); ++i)
      row.push_back(read_value(select, static_cast<int>(i)));
  }
  return rows;
}

std::string describe_key(const Table& table, const Row& row) {
  if (table.keys.empty()) return "without a primary key";
  std::string text = "(";
  for (std::size_t i = 0; i < table.keys.size(); ++i)
    text +=
        (i ? ", " : "") + table.columns[table.keys[i]].name + " " + describe(row[table.keys[i]]);
  return text + ")";
}

[[noreturn]] void differs(const std::string& what) {
  throw Error(ErrorCode::kInternal, "verify: " + what);
}

// Reads both back in the same order and compares every value; throws at the first difference.
void verify(Connection& source, Connection& target, const Table& table, std::int64_t rows) {
  auto count = target.prepare("SELECT COUNT(*) FROM " + quote_identifier(table.name));
  count.step();
  if (std::int64_t copied = count.column_int(0); copied != rows)
    differs("table '" + table.name + "' has " + std::to_string(rows) + " rows in the source and " +
            std::to_string(copied) + " in the target");
  std::optional<Row> after;
  std::int64_t compared = 0;
  for (;;) {
    std::vector<Row> expected = read_page(source, table, after ? &*after : nullptr);
    std::vector<Row> actual = read_page(target, table, after ? &*after : nullptr);
    for (std::size_t r = 0; r < std::min(expected.size(), actual.size()); ++r)
      for (std::size_t c = 0; c < table.columns.size(); ++c)
        if (!same(expected[r][c], actual[r][c]))
          differs("table '" + table.name + "', row " + describe_key(table, expected[r]) +
                  ": column '" + table.columns[c].name + "' is " + describe(expected[r][c]) +
                  " in the source and " + describe(actual[r][c]) + " in the target");
    if (expected.size() != actual.size())
      differs("table '" + table.name + "' reads back with a different number of rows");
    compared += static_cast<std::int64_t>(expected.size());
    if (table.keys.empty() || expected.size() < kPageRows) break;
    after.emplace();
    for (int key : table.keys) after->push_back(expected.back()[key]);
  }
  // Paging by key sees each row once only when the key is unique in both, as a primary key is.
  if (compared != rows)
    differs("table '" + table.name + "': " + std::to_string(compared) + " of its " +
            std::to_string(rows) + " rows were compared");
}

}  // namespace

CopyReport copy_store(const std::string& from, const std::string& to) {
  if (is_postgres(from))
    invalid("from", "must be a SQLite file; migrate copies SQLite into PostgreSQL");
  if (!is_postgres(to)) invalid("to", "must be a PostgreSQL URL (postgresql://USER@HOST/DATABASE)");
  std::string path = sqlite_path(from);
  if (path == ":memory:" || !std::filesystem::is_regular_file(path))
    throw Error(ErrorCode::kNotFound, "from: " + path + " does not exist", "from");

  Engine source_engine(path);
  Engine target_engine(to);
  Connection& source = source_engine.store().db();
  Connection& target = target_engine.store().db();
  CopyReport report{source.path(), target.location(), {}};

  // The source's write lock for the whole copy and comparison: both read one moment of it.
  Transaction snapshot(source);
  std::vector<Table> tables = in_dependency_order(source_tables(source));
  {
    // The writer lock of every node on the target too: none writes between check and copy.
    Transaction copy(target);
    require_empty(target, tables);
    target.prepare("DELETE FROM project WHERE id = ?").bind(1, kDefaultProjectId).run();
    for (const auto& table : tables) {
      TableCopy& entry = report.tables.emplace_back(TableCopy{.table = table.name});
      try {
        if (!has_table(target, table.name)) {
          target.exec(create_sql(table));
          entry.created = true;
        }
        entry.rows = copy_rows(source, target, table);
      } catch (const StorageError& error) {
        throw StorageError(error.failure(), "table '" + table.name + "': " + error.reason());
      }
    }
    advance_identities(target, tables);
    copy.commit();
  }
  // Read back as another node will, over a connection of its own: what the copy committed.
  auto reader = open(to, OpenMode::kReadOnly);
  for (std::size_t i = 0; i < tables.size(); ++i)
    verify(source, *reader, tables[i], report.tables[i].rows);
  return report;
}

}  // namespace verdict::storage
