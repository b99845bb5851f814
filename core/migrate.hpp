#pragma once

#include <cstdint>
#include <string>
#include <vector>

// `verdict migrate`: a SQLite database copied whole into PostgreSQL, then read back and compared.
namespace verdict::storage {

struct TableCopy {
  std::string table;
  std::int64_t rows = 0;
  /// The target had no such table (a noun that hooks declared): made from the source's columns.
  bool created = false;
};

struct CopyReport {
  std::string from;               ///< the SQLite file
  std::string to;                 ///< the PostgreSQL database, without its password
  std::vector<TableCopy> tables;  ///< in the order copied (referenced tables first)
};

/// Copies every table of the SQLite database at `from` (a file that must exist) into the
/// PostgreSQL database or schema at `to`, then compares both table by table, row by row.
///
/// - Both are opened as an Engine first, so an older file is migrated to the current schema and
///   the target gets every built-in table. Tables that only the source has (nouns that hooks
///   declared) are created on the target from the source's columns, so that the hooks find their
///   entities there; `verdict serve` adds their indexes when it loads the hooks.
/// - The target must hold no rows in any of those tables (the `default` project, which opening
///   creates, excepted: the source's replaces it): nothing is merged or duplicated. Otherwise
///   throws Error(kConflict) naming the first such table.
/// - All rows are written in one PostgreSQL transaction: a failure leaves the target as it was.
///   The event log keeps its sequence numbers, and the next event appended follows the last.
/// - The source stays locked for writing while it is copied and compared, so the copy is of one
///   moment of it; stop `verdict serve` on it first.
/// Throws Error(kInvalidArgument) naming `from` or `to` for a wrong location, Error(kInternal)
/// with the first difference when the comparison fails, and StorageError when an engine fails.
CopyReport copy_store(const std::string& from, const std::string& to);

}  // namespace verdict::storage
