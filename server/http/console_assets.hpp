#pragma once

#include <span>
#include <string_view>

namespace verdict::server::http {

/// One file of the web console, compiled into the binary by cmake/embed_console.cmake.
struct ConsoleAsset {
  std::string_view path;          ///< "/app.js": the file's path under console/
  std::string_view content_type;  ///< with charset for text
  std::string_view etag;          ///< quoted strong validator: a prefix of the file's SHA-256
  std::string_view body;
};

/// Every console file, sorted by path; defined in the generated console_assets.cpp.
std::span<const ConsoleAsset> console_assets();

}  // namespace verdict::server::http
