#include "plugins/run_script.hpp"

#include "core/storage/connection.hpp"
#include "plugins/lua_context.hpp"
#include "plugins/lua_json.hpp"
#include "plugins/lua_sandbox.hpp"

namespace verdict::plugins {

boost::json::value run_script(Engine& engine, std::string_view source, const std::string& actor,
                              const Limits& limits, const Caller& caller) {
  LuaSandbox sandbox(limits);
  CallFrame frame{&engine, 0, actor, "script", caller};
  boost::json::value result;
  storage::Transaction transaction(engine.store().db());
  sandbox.call(frame, ErrorCode::kInvalidArgument, [&](lua_State* L) {
    push_context(L);
    sandbox.set_global(L, "ctx");
    for (const auto& noun : engine.schema().nouns()) {
      push_noun_context(L, noun->name);
      sandbox.set_global(L, noun->name.c_str());
    }
    sandbox.load(L, source, frame.script);
    lua_call(L, 0, 1);
    result = to_json(L, -1);
  });
  transaction.commit();
  return result;
}

}  // namespace verdict::plugins
