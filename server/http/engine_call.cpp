#include "server/http/engine_call.hpp"

#include <boost/json.hpp>

#include <memory>
#include <vector>

#include "server/http/http_exchange.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<std::string> call_engine_text(EngineWorker& worker, json::object params,
                                              const RequestContext& context) {
  auto exchange = std::make_shared<HttpExchange>(co_await asio::this_coro::executor, nullptr);
  exchange->session.transport = "http";
  exchange->session.actor = context.peer;
  exchange->session.authenticated = context.authenticated;
  std::vector<LineFramer::Frame> frames;
  frames.push_back({json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "do"}, {"params", std::move(params)}})});
  worker.submit(exchange, std::move(frames));
  co_await exchange->wait();
  co_return exchange->reply();
}

asio::awaitable<json::value> call_engine(EngineWorker& worker, json::object params,
                                         const RequestContext& context) {
  const std::string reply = co_await call_engine_text(worker, std::move(params), context);
  std::error_code ec;
  json::value parsed = json::parse(reply, ec);
  co_return ec ? json::value(nullptr) : std::move(parsed);
}

}  // namespace verdict::server::http
