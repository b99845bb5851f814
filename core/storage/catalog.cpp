#include "core/storage/catalog.hpp"

#include <utility>

namespace verdict::storage {

std::set<std::string> table_columns(Connection& db, std::string_view table) {
  auto statement = db.prepare(db.backend() == Backend::kSqlite
                                  ? "SELECT name FROM pragma_table_info(?)"
                                  : "SELECT column_name FROM information_schema.columns"
                                    " WHERE table_schema = current_schema() AND table_name = ?");
  statement.bind(1, table);
  std::set<std::string> columns;
  while (statement.step()) columns.insert(statement.column_text(0));
  return columns;
}

bool has_column(Connection& db, std::string_view table, std::string_view column) {
  auto statement = db.prepare(db.backend() == Backend::kSqlite
                                  ? "SELECT 1 FROM pragma_table_info(?) WHERE name = ?"
                                  : "SELECT 1 FROM information_schema.columns WHERE table_schema ="
                                    " current_schema() AND table_name = ? AND column_name = ?");
  statement.bind(1, table).bind(2, column);
  return statement.step();
}

bool has_table(Connection& db, std::string_view table) {
  auto statement = db.prepare(db.backend() == Backend::kSqlite
                                  ? "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"
                                  : "SELECT 1 FROM information_schema.tables WHERE table_schema ="
                                    " current_schema() AND table_name = ?");
  statement.bind(1, table);
  return statement.step();
}

std::string ddl(Backend backend, std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view (*)(Backend)> kWords[] = {
      {"{INT}", integer_type},
      {"{REAL}", real_type},
      {"{TEXT}", text_type},
      {"{KEYED}", keyed_table_suffix}};
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  while (!text.empty()) {
    auto brace = text.find('{');
    out += text.substr(0, brace);
    if (brace == std::string_view::npos) break;
    text.remove_prefix(brace);
    bool replaced = false;
    for (const auto& [word, type] : kWords) {
      if (!text.starts_with(word)) continue;
      out += type(backend);
      text.remove_prefix(word.size());
      replaced = true;
      break;
    }
    if (!replaced) {
      out += '{';
      text.remove_prefix(1);
    }
  }
  return out;
}

std::string_view integer_type(Backend backend) {
  return backend == Backend::kSqlite ? "INTEGER" : "BIGINT";
}

std::string_view real_type(Backend backend) {
  return backend == Backend::kSqlite ? "REAL" : "DOUBLE PRECISION";
}

std::string_view text_type(Backend backend) {
  return backend == Backend::kSqlite ? "TEXT" : "TEXT COLLATE \"C\"";
}

std::string_view keyed_table_suffix(Backend backend) {
  return backend == Backend::kSqlite ? " WITHOUT ROWID" : "";
}

}  // namespace verdict::storage
