#pragma once

#include <set>
#include <string>
#include <string_view>

#include "core/storage/connection.hpp"

// What a store's tables look like, and the few column types whose names differ between the
// engines, for the migrations of core's modules: each creates its tables if missing and adds
// the columns an older release did not have.
namespace verdict::storage {

/// The column names of `table` in the store's current schema; empty when it does not exist.
std::set<std::string> table_columns(Connection& db, std::string_view table);
bool has_column(Connection& db, std::string_view table, std::string_view column);
bool has_table(Connection& db, std::string_view table);

/// `ddl` with its type words replaced by the backend's: {INT}, {REAL}, {TEXT} and {KEYED} (see
/// below), so one text creates a module's tables on either engine.
std::string ddl(Backend backend, std::string_view ddl);

/// Column types for DDL. SQLite's INTEGER is 64-bit and PostgreSQL's is not; PostgreSQL's text
/// columns compare byte by byte (COLLATE "C"), as SQLite's do, whatever the database's locale,
/// so that sorting and keyset paging agree on both.
std::string_view integer_type(Backend backend);
std::string_view real_type(Backend backend);
std::string_view text_type(Backend backend);
/// A table whose rows are found only by their primary key (SQLite stores them without a
/// separate rowid b-tree): the suffix that ends its CREATE TABLE.
std::string_view keyed_table_suffix(Backend backend);

}  // namespace verdict::storage
