#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/storage/connection.hpp"
#include "tests/support/ci.hpp"

// The store suites run twice: on SQLite in memory, and, as ctest's `postgres.*` tests, on the
// throwaway PostgreSQL cluster that ctest's `postgres.cluster` fixture starts. A test asks
// fresh_store() for where its store lives and gets an empty store either way.
namespace verdict::test_support {

/// The PostgreSQL database the `postgres.*` tests use: VERDICT_TEST_POSTGRES, or the URL that
/// ctest's cluster fixture wrote in the build tree. Empty when neither.
inline std::string postgres_test_url() {
  if (const char* url = std::getenv("VERDICT_TEST_POSTGRES"); url != nullptr && *url != '\0')
    return url;
  std::ifstream in(VERDICT_TEST_POSTGRES_URL_FILE);
  std::string url;
  std::getline(in, url);
  return url;
}

/// Whether this process runs the suites on PostgreSQL (ctest sets VERDICT_TEST_BACKEND).
inline bool on_postgres() {
  const char* backend = std::getenv("VERDICT_TEST_BACKEND");
  return backend != nullptr && std::string_view(backend) == "postgres";
}

/// An empty store for one test: ":memory:" on SQLite; on PostgreSQL a new schema of its own in
/// the test database (so tests run in parallel and never see each other's rows), named in the
/// URL's search_path. Throws when PostgreSQL is asked for but not there, so the test fails
/// loudly instead of running on the wrong backend.
inline std::string fresh_store() {
  if (!on_postgres()) return ":memory:";
  std::string url = postgres_test_url();
  if (url.empty())
    throw std::runtime_error(
        "VERDICT_TEST_BACKEND=postgres but no database: set VERDICT_TEST_POSTGRES to a URL, or "
        "run the tests through ctest, whose postgres.cluster fixture starts one "
        "(scripts/postgres-cluster.sh)");
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  std::string schema = "t_" + std::to_string(random()) + "_" + std::to_string(counter++);
  storage::open(url)->exec("CREATE SCHEMA " + schema);
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

/// An empty store that other connections and processes open too (reader threads, a `verdict
/// serve` child, the CLI): `sqlite_file` on SQLite; on PostgreSQL fresh_store()'s URL, which is
/// itself the location every connection shares.
inline std::string shared_store(std::string sqlite_file) {
  return on_postgres() ? fresh_store() : std::move(sqlite_file);
}

}  // namespace verdict::test_support
