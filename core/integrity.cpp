#include "core/integrity.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

namespace verdict {

std::vector<std::string> check_integrity(const std::string& path, IntegrityCheck depth) {
  if (path == ":memory:" || !std::filesystem::exists(path)) return {};
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
  if (rc != SQLITE_OK) return {std::string("cannot open: ") + sqlite3_errstr(rc)};
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_stmt* raw_statement = nullptr;
  const char* sql =
      depth == IntegrityCheck::kQuick ? "PRAGMA quick_check(20)" : "PRAGMA integrity_check(100)";
  rc = sqlite3_prepare_v2(db.get(), sql, -1, &raw_statement, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw_statement,
                                                                       sqlite3_finalize);
  if (rc != SQLITE_OK) return {sqlite3_errmsg(db.get())};
  std::vector<std::string> problems;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
    std::string line = text ? text : "";
    if (line != "ok") problems.push_back(line);
  }
  // A page so damaged that the check itself stops is reported as the error it stopped with.
  if (rc != SQLITE_DONE) problems.push_back(sqlite3_errmsg(db.get()));
  return problems;
}

std::string recovery_advice(const std::string& path) {
  return "stop every process using it, keep a copy, and recover what SQLite can still read: "
         "sqlite3 '" +
         path + "' .recover | sqlite3 '" + path + ".recovered' && verdict check --db '" + path +
         ".recovered', then serve the recovered file";
}

}  // namespace verdict
