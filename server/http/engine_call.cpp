#include "server/http/engine_call.hpp"

#include <boost/asio/this_coro.hpp>

#include "server/http/http_exchange.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;

EngineCall::EngineCall(std::string_view method) : line_(std::make_unique<ParsedLine>()) {
  // Handed over as the parsed message the dispatcher answers, as a framed line is: text written
  // here only to be parsed there cost more than the rest of a cached REST GET's engine call. The
  // line's arena is one block, reused from line to line (ParsedLine::operator new).
  json::object& request = line_->message.get_object();
  request.reserve(4);
  request.emplace("jsonrpc", "2.0");
  request.emplace("id", 1);
  request.emplace("method", method);
  params_ = &request.emplace("params", json::object(request.storage())).first->value().as_object();
}

EngineCall::EngineCall(std::string_view method, const json::object& params) : EngineCall(method) {
  *params_ = params;
}

namespace {

// Submits the call; the exchange's session then names the caller. A plain function, not a
// coroutine: each coroutine a request passes through costs it a frame allocation.
std::shared_ptr<HttpExchange> start_exchange(asio::any_io_executor executor, EngineWorker& worker,
                                             const RequestContext& context, EngineCall call) {
  auto exchange = std::make_shared<HttpExchange>(std::move(executor), nullptr);
  exchange->session.transport = "http";
  exchange->session.actor = context.peer;
  exchange->session.presented_key = context.presented_key;
  exchange->session.required_project = context.project;
  std::vector<LineFramer::Frame> frames(1);
  frames.front().parsed = call.release();
  worker.submit(exchange, std::move(frames));
  return exchange;
}

}  // namespace

asio::awaitable<EngineText> call_engine_text(EngineWorker& worker, const RequestContext& context,
                                             EngineCall call) {
  auto exchange =
      start_exchange(co_await asio::this_coro::executor, worker, context, std::move(call));
  if (!exchange->done()) co_await exchange->wait();
  co_return EngineText{exchange->take_reply(), exchange->session.answered_version};
}

asio::awaitable<EngineReply> call_engine(EngineWorker& worker, const RequestContext& context,
                                         EngineCall call) {
  auto exchange =
      start_exchange(co_await asio::this_coro::executor, worker, context, std::move(call));
  if (!exchange->done()) co_await exchange->wait();
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
