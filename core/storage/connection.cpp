#include "core/storage/connection.hpp"

#include "core/storage/postgres_connection.hpp"
#include "core/storage/sqlite_connection.hpp"

namespace verdict::storage {

bool is_postgres(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::unique_ptr<Connection> open(const std::string& location, OpenMode mode) {
  if (is_postgres(location)) return open_postgres(location, mode);
  return std::make_unique<SqliteConnection>(sqlite_path(location), mode);
}

std::unique_ptr<Connection> lock_schema(const std::string& location) {
  if (!is_postgres(location)) return nullptr;
  auto connection = open_postgres(location, OpenMode::kReadWrite);
  connection->exec("SELECT pg_advisory_lock(" + std::to_string(PostgresConnection::kSchemaLock) +
                   ", hashtext(current_schema()))");
  return connection;
}

std::string Connection::budget_message(std::string_view what) const {
  return std::string(what) + ": stopped after " + std::to_string(query_timeout_.count()) +
         " ms, the longest a query may run (--query-timeout); narrow the filter or lower the "
         "limit";
}

}  // namespace verdict::storage
