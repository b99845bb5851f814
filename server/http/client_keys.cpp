#include "server/http/client_keys.hpp"

#include <openssl/crypto.h>

namespace verdict::server::http {

std::optional<std::string> project_for_client_key(std::string_view client_key,
                                                  const std::string& listener_token) {
  if (listener_token.empty() || client_key.size() != listener_token.size() ||
      CRYPTO_memcmp(client_key.data(), listener_token.data(), listener_token.size()) != 0)
    return std::nullopt;
  return std::string(kDefaultProject);
}

}  // namespace verdict::server::http
