#pragma once

#include <string>

#include "server/http/router.hpp"

namespace verdict::server::http {

/// Appends to `out` the bytes Beast's serializer writes for `response`: the status line, each
/// field as stored, the blank line, then the body. Connections gather their responses this way
/// for one send: Beast's serializer walks a concatenation of buffer sequences and took about
/// 8,000 instructions a response (callgrind), more than the rest of a cached REST `GET` in the
/// HTTP layer. A chunked message is left to Beast's serializer, whose chunk framing this does not
/// repeat; prepare_payload never makes a string body chunked.
void append_response_bytes(std::string& out, const HttpResponse& response);

}  // namespace verdict::server::http
