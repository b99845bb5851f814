#pragma once

#include <string>
#include <vector>

namespace verdict {

/// How thoroughly check_integrity looks: `quick` is SQLite's `PRAGMA quick_check` (page and
/// b-tree structure, linear in the file size, run at every start); `full` is
/// `PRAGMA integrity_check` (also index contents; `verdict check`).
enum class IntegrityCheck { kQuick, kFull };

/// Checks the SQLite file at `path`, opened read-only. Returns the problems SQLite reports (empty
/// when the file is sound, or does not exist yet). A file SQLite cannot read at all is one
/// problem, not an exception.
std::vector<std::string> check_integrity(const std::string& path, IntegrityCheck depth);

/// The advice printed with a damaged file: how to recover what SQLite can still read.
std::string recovery_advice(const std::string& path);

}  // namespace verdict
