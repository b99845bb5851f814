#include "server/http/engine_call.hpp"

#include <boost/asio/this_coro.hpp>

#include "core/json_style.hpp"
#include "server/http/http_exchange.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The exchange once the engine has answered it; its session then names the caller.
asio::awaitable<std::shared_ptr<HttpExchange>> exchange_with_engine(EngineWorker& worker,
                                                                    const RequestContext& context,
                                                                    std::string_view method,
                                                                    json::object params) {
  auto exchange = std::make_shared<HttpExchange>(co_await asio::this_coro::executor, nullptr);
  exchange->session.transport = "http";
  exchange->session.actor = context.peer;
  exchange->session.presented_key = context.presented_key;
  exchange->session.required_project = context.project;
  // Written as text around the params: a request object built only to be serialized would copy
  // them once more.
  std::string line = R"({"jsonrpc":"2.0","id":1,"method":)";
  append_json_string(line, method);
  line += R"(,"params":)";
  append_json_text(line, params);
  line += '}';
  std::vector<LineFramer::Frame> frames;
  frames.push_back({std::move(line)});
  worker.submit(exchange, std::move(frames));
  co_await exchange->wait();
  co_return exchange;
}

}  // namespace

asio::awaitable<std::string> call_engine_text(EngineWorker& worker, const RequestContext& context,
                                              std::string_view method, json::object params) {
  auto exchange = co_await exchange_with_engine(worker, context, method, std::move(params));
  co_return exchange->reply();
}

asio::awaitable<EngineReply> call_engine(EngineWorker& worker, const RequestContext& context,
                                         std::string_view method, json::object params) {
  auto exchange = co_await exchange_with_engine(worker, context, method, std::move(params));
  co_return read_engine_reply(exchange->reply(), exchange->session.caller.project_slug);
}

EngineReply read_engine_reply(std::string_view text, std::string project) {
  std::error_code ec;
  json::value reply = json::parse(text, ec);
  json::object* answer = ec ? nullptr : reply.if_object();
  EngineReply out;
  out.project = std::move(project);
  if (json::value* error = answer ? answer->if_contains("error") : nullptr) {
    json::object& fields = error->as_object();
    out.failed = true;
    out.error.code = fields.at("code").to_number<int>();
    out.error.message = std::string(fields.at("message").as_string());
    if (json::value* data = fields.if_contains("data")) out.error.data = std::move(*data);
  } else if (json::value* result = answer ? answer->if_contains("result") : nullptr) {
    out.result = std::move(*result);
  } else {
    out.failed = true;
    out.error = {kInternalError, "the engine gave no result", nullptr};
  }
  return out;
}

}  // namespace verdict::server::http
