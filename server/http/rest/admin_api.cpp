#include "server/http/rest/admin_api.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/json_style.hpp"
#include "server/http/rest/openapi.hpp"
#include "server/http/rest/rest_support.hpp"

namespace verdict::server::http::rest {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::verb;

namespace {

// An engine call of this API: the engine names the project a request addresses `project`, which
// this API's callers know as `project_id`.
asio::awaitable<json::value> admin_call(EngineWorker& worker, const RequestContext& context,
                                        std::string_view method, json::object params,
                                        std::string* project = nullptr) {
  try {
    // Verbs through do_verb: a refused transition names the verbs the state allows.
    json::value result;
    if (method == kDoMethod)
      result = co_await do_verb(worker, context, std::move(params), project);
    else
      result = co_await engine_call(worker, context, method, std::move(params), project);
    co_return result;
  } catch (Problem& problem) {
    if (json::value* field = problem.extra.if_contains("field"); field && *field == "project")
      *field = "project_id";
    throw;
  }
}

constexpr std::string_view kBase = "/v1/admin/experiments";
// Seed 000's experiments measure conversions: what an experiment made here measures unless the
// request names another primary metric.
constexpr std::string_view kDefaultMetric = "conversion";
constexpr std::int64_t kListLimit = 1000;

const json::value* member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && !value->is_null() ? value : nullptr;
}

std::string console_status(std::string_view status) {
  if (status == "Draft") return "draft";
  if (status == "Started" || status == "Running") return "running";
  return "stopped";
}

// The console's project_id, resolved by the one function the /~{project} paths use too.
std::string project_of(const json::value* given) {
  if (!given) return {};  // the caller's own project
  if (!given->is_string())
    throw Problem(422, "project_id: must be a string", {{"field", "project_id"}});
  auto project = resolve_project(given->get_string());
  if (!project)
    throw Problem(404, "project_id: no project '" + std::string(given->get_string()) + "'",
                  {{"field", "project_id"}});
  return *project;
}

void refuse_fields(const json::object& body, const std::string& action) {
  if (!body.empty())
    throw Problem(422, std::string(body.begin()->key()) + ": " + action + " takes no fields",
                  {{"field", body.begin()->key()}});
}

void only_fields(const json::object& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : body) {
    bool known = false;
    std::string list;
    for (auto name : allowed) {
      known = known || entry.key() == name;
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
    if (!known)
      throw Problem(422, std::string(entry.key()) + ": unknown field (allowed: " + list + ")",
                    {{"field", entry.key()}});
  }
}

// traffic_weight is a fraction of traffic (0..1); Verdict's variant weights are percentages.
double weight_from_fraction(const json::value& fraction, const std::string& field) {
  if (!fraction.is_number())
    throw Problem(422, field + ": must be a number between 0 and 1", {{"field", field}});
  double value = fraction.to_number<double>();
  if (!(value >= 0 && value <= 1))
    throw Problem(422, field + ": must be a fraction between 0 and 1 (0.5 is half the traffic)",
                  {{"field", field}});
  return value * 100;
}

json::object variant_data(const json::object& given, const std::string& where) {
  json::object out;
  for (const auto& [key, value] : given) {
    if (key == "name") {
      out["name"] = value;
    } else if (key == "traffic_weight") {
      out["weight"] = weight_from_fraction(value, where + "traffic_weight");
    } else if (key == "key") {
      out["key"] = value;
    } else {
      throw Problem(
          422, where + std::string(key) + ": unknown field (allowed: name, traffic_weight, key)",
          {{"field", where + std::string(key)}});
    }
  }
  return out;
}

// The variants of one create are all there is to split, so their weights must make the whole
// now, not only at launch (where the shipped starting hook refuses them): the form that sent
// them can still show the error at its variants. Thirds never add up exactly, so half a percent
// of slack, as the hook allows.
void refuse_weights_not_adding_up(const json::array& variants) {
  double total = 0;
  std::size_t weighted = 0;
  for (const json::value& variant : variants)
    if (const json::value* weight = variant.as_object().if_contains("weight")) {
      total += weight->to_number<double>();
      ++weighted;
    }
  if (weighted == 0 || std::fabs(total - 100) <= 0.5) return;
  std::ostringstream sum;
  sum << total / 100;
  throw Problem(422,
                weighted < variants.size()
                    ? "variants: every variant needs a traffic_weight when one has one"
                    : "variants: traffic weights add up to " + sum.str() + ", not 1",
                {{"field", "variants"}});
}

// Stored numbers come back as integers when whole; the console reads plain numbers either way.
double number(const json::value* value, double fallback = 0) {
  return value && value->is_number() ? value->to_number<double>() : fallback;
}

json::object to_analysis(const json::object& results) {
  const json::object* summary = nullptr;
  if (const json::value* view = member(results, "summary"); view && view->is_object())
    summary = &view->get_object();
  if (!summary) return {};
  json::object out;
  out["analyzed_at"] = results.contains("analyzedAt") ? results.at("analyzedAt") : nullptr;
  out["primary_metric"] = results.contains("primaryMetric") ? results.at("primaryMetric") : nullptr;
  json::object srm{{"p_value", nullptr}, {"mismatch", false}, {"applicable", true}};
  if (const json::value* given = member(*summary, "srm"); given && given->is_object()) {
    const json::object& s = given->get_object();
    if (const json::value* p = member(s, "pValue")) srm["p_value"] = *p;
    if (const json::value* m = member(s, "mismatch")) srm["mismatch"] = *m;
    if (const json::value* a = member(s, "applicable")) srm["applicable"] = *a;
  }
  out["srm"] = std::move(srm);
  auto copy = [&](std::string_view from, std::string_view to) {
    const json::value* value = member(*summary, from);
    out[to] = value ? *value : json::value(nullptr);
  };
  copy("pValue", "p_value");
  copy("msprtLogLRCurrentLook", "msprt_log_lr");
  copy("alwaysValidPValueAdjusted", "always_valid_p_value");
  copy("relativeLift", "relative_lift");
  copy("comparedVariant", "compared_variant");
  copy("winner", "winner");
  copy("confidence", "confidence");
  copy("recommendation", "recommendation");
  json::array variants;
  if (const json::value* table = member(*summary, "variants"); table && table->is_array())
    for (const json::value& row : table->get_array()) {
      const json::object& r = row.as_object();
      const json::value* conversions = member(r, "conversions");
      const json::value* rate = member(r, "rate");
      variants.push_back({{"variant", r.at("variant")},
                          {"exposures", number(member(r, "exposures"))},
                          {"conversions", conversions        ? *conversions
                                          : member(r, "sum") ? r.at("sum")
                                                             : json::value(nullptr)},
                          {"rate", rate                ? *rate
                                   : member(r, "mean") ? r.at("mean")
                                                       : json::value(nullptr)}});
    }
  out["variants"] = std::move(variants);
  return out;
}

// The posterior Thompson sampling keeps (bandit mode), else the one the analysis' counts give:
// alpha = conversions + 1, beta = failures + 1, both 1 before any data.
std::pair<double, double> posterior(const json::object& variant, const json::object& analysis) {
  if (member(variant, "alpha") && member(variant, "beta"))
    return {number(member(variant, "alpha")), number(member(variant, "beta"))};
  if (const json::value* rows = analysis.if_contains("variants"))
    for (const json::value& row : rows->as_array())
      if (row.at("variant") == variant.at("key") && row.at("conversions").is_number()) {
        double conversions = row.at("conversions").to_number<double>();
        double exposures = row.at("exposures").to_number<double>();
        return {conversions + 1, std::max(0.0, exposures - conversions) + 1};
      }
  return {1, 1};
}

}  // namespace

json::object AdminApi::to_admin(const json::object& experiment, std::string_view project) {
  json::object analysis;
  if (const json::value* results = member(experiment, "results"); results && results->is_object())
    analysis = to_analysis(results->get_object());
  const json::value* winner = member(experiment, "winner");
  json::array variants;
  if (const json::value* list = member(experiment, "variants"); list && list->is_array())
    for (const json::value& entry : list->get_array()) {
      const json::object& v = entry.as_object();
      auto [alpha, beta] = posterior(v, analysis);
      json::object out{{"key", v.at("key")},
                       {"name", member(v, "name") ? v.at("name") : v.at("key")},
                       {"traffic_weight", number(member(v, "weight"), 0) / 100},
                       {"alpha", alpha},
                       {"beta", beta},
                       {"is_winner", winner && *winner == v.at("key")}};
      if (const json::value* bandit = member(v, "banditWeight")) out["bandit_weight"] = *bandit;
      variants.push_back(std::move(out));
    }
  const std::string status(experiment.at("status").as_string());
  auto text = [&](std::string_view key) {
    const json::value* value = member(experiment, key);
    return value ? *value : json::value(nullptr);
  };
  return {{"id", experiment.at("id")},
          {"project_id", project},
          {"name", experiment.at("name")},
          {"slug", text("slug")},
          {"hypothesis", text("hypothesis")},
          {"status", console_status(status)},
          {"verdict_status", status},
          {"bandit_enabled", text("banditEnabled") == true},
          {"primary_metric", text("primaryMetric")},
          {"variants", std::move(variants)},
          {"winner", winner ? *winner : json::value(nullptr)},
          {"confidence", text("confidence")},
          {"analysis", analysis.empty() ? json::value(nullptr) : json::value(std::move(analysis))},
          {"started_at", text("startAt")},
          {"ended_at", text("endAt")},
          {"created_at", experiment.at("createdAt")},
          {"updated_at", experiment.at("updatedAt")},
          {"version", experiment.at("version")}};
}

namespace {

json::object typed(std::string_view type, std::string_view description = {}) {
  json::object out{{"type", type}};
  if (!description.empty()) out["description"] = description;
  return out;
}

json::object nullable(std::string_view type) {
  return {{"type", {type, "null"}}};
}

json::object object_of(json::object properties, json::array required, bool closed = false) {
  json::object out{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) out["required"] = std::move(required);
  if (closed) out["additionalProperties"] = false;
  return out;
}

}  // namespace

void AdminApi::describe(json::object& paths, json::object& schemas) {
  using oas::ref;
  json::object fraction{{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
  schemas["AdminVariant"] =
      object_of({{"key", typed("string")},
                 {"name", typed("string")},
                 {"traffic_weight", typed("number", "fraction of traffic (0..1)")},
                 {"alpha", typed("number", "Beta posterior: conversions + 1")},
                 {"beta", typed("number", "Beta posterior: failures + 1")},
                 {"is_winner", typed("boolean")},
                 {"bandit_weight", typed("number")}},
                {"key", "name", "traffic_weight", "alpha", "beta", "is_winner"});
  schemas["AdminExperiment"] = object_of(
      {{"id", typed("string")},
       {"project_id", typed("string")},
       {"name", typed("string")},
       {"slug", nullable("string")},
       {"hypothesis", nullable("string")},
       {"status", {{"enum", {"draft", "running", "stopped"}}}},
       {"verdict_status", typed("string", "Verdict's own status (Draft, Started, Concluded, ...)")},
       {"bandit_enabled", typed("boolean")},
       {"primary_metric", nullable("string")},
       {"variants", {{"type", "array"}, {"items", ref("schemas", "AdminVariant")}}},
       {"winner", nullable("string")},
       {"confidence", nullable("number")},
       {"analysis", {{"type", {"object", "null"}}, {"description", "the latest analysis"}}},
       {"started_at", nullable("string")},
       {"ended_at", nullable("string")},
       {"created_at", typed("string")},
       {"updated_at", typed("string")},
       {"version", typed("integer")},
       {"notices", {{"type", "array"}, {"items", typed("string")}}}},
      {"id", "project_id", "name", "status", "verdict_status", "bandit_enabled", "variants",
       "created_at", "updated_at", "version"});
  schemas["AdminExperimentList"] =
      object_of({{"experiments", {{"type", "array"}, {"items", ref("schemas", "AdminExperiment")}}},
                 {"summary", object_of({{"total", typed("integer")},
                                        {"running", typed("integer")},
                                        {"winners_found", typed("integer")}},
                                       {"total", "running", "winners_found"})},
                 {"next_cursor", typed("string")}},
                {"experiments", "summary"});
  json::object variant_input =
      object_of({{"name", typed("string")}, {"traffic_weight", fraction}, {"key", typed("string")}},
                {}, true);
  schemas["AdminVariantInput"] = variant_input;
  schemas["AdminExperimentInput"] =
      object_of({{"name", typed("string")},
                 {"hypothesis", typed("string")},
                 {"bandit_enabled", typed("boolean")},
                 {"project_id", typed("string", "the project (default: the caller's)")},
                 {"primary_metric", typed("string", "default: conversion")},
                 {"variants", {{"type", "array"}, {"items", ref("schemas", "AdminVariantInput")}}}},
                {"name"}, true);

  const std::string base(kBase);
  const json::object experiment = ref("schemas", "AdminExperiment");
  json::object list = oas::operation(
      "adminListExperiments", "the project's experiments and summary cards", kTag,
      oas::with_errors({{"200", oas::ok("the list", ref("schemas", "AdminExperimentList"), true)},
                        {"304", {{"description", "If-None-Match holds the ETag"}}}},
                       {422}));
  list["parameters"] = {{{"name", "project_id"},
                         {"in", "query"},
                         {"description", "the project (default: the caller's)"},
                         {"schema", typed("string")}}};
  json::object create =
      oas::operation("adminCreateExperiment", "create an experiment (in draft)", kTag,
                     oas::with_errors({{"201", oas::ok("created, with notices", experiment)}},
                                      {409, 413, 415, 422}));
  create["requestBody"] = oas::body(ref("schemas", "AdminExperimentInput"), true);
  paths[base] = {{"get", std::move(list)}, {"post", std::move(create)}};

  const json::array id_param{{{"name", "id"},
                              {"in", "path"},
                              {"required", true},
                              {"description", "the experiment's id or slug"},
                              {"schema", typed("string")}}};
  paths[base + "/{id}"] = {
      {"parameters", id_param},
      {"get",
       oas::operation("adminGetExperiment", "one experiment", kTag,
                      oas::with_errors({{"200", oas::ok("the experiment", experiment)}}, {}))}};
  struct Action {
    const char* path;
    const char* id;
    const char* summary;
  };
  const Action kActions[] = {
      {"variants", "adminAddVariant", "add a variant"},
      {"launch", "adminLaunchExperiment", "start it"},
      {"stop", "adminStopExperiment", "stop it (concludes with the winner an analysis identified)"},
      {"analyze", "adminAnalyzeExperiment", "analyze it now"}};
  for (const auto& [action, id, summary] : kActions) {
    const bool variants = std::string_view(action) == "variants";
    json::object op = oas::operation(
        id, summary, kTag,
        oas::with_errors({{variants ? "201" : "200", oas::ok("the experiment", experiment)}},
                         {409, 413, 415, 422}));
    op["requestBody"] = oas::body(
        variants ? ref("schemas", "AdminVariantInput") : object_of({}, {}, true), variants);
    paths[base + "/{id}/" + action] = {{"parameters", id_param}, {"post", std::move(op)}};
  }
}

void AdminApi::register_routes(Router& router) {
  router.add(verb::get, std::string(kBase),
             guarded([this](const HttpRequest& request, RequestContext context) {
               return list(request, std::move(context));
             }));
  router.add(verb::post, std::string(kBase),
             guarded([this](const HttpRequest& request, RequestContext context) {
               return create(request, std::move(context));
             }));
  auto item_handler = guarded([this](const HttpRequest& request, RequestContext context) {
    return item(request, std::move(context));
  });
  router.add_prefix(verb::get, std::string(kBase) + "/", item_handler);
  router.add_prefix(verb::post, std::string(kBase) + "/", item_handler);
}

asio::awaitable<HttpResponse> AdminApi::list(const HttpRequest& request, RequestContext context) {
  json::object query{
      {"type", "Experiment"}, {"sort", {{"createdAt", "desc"}}}, {"limit", kListLimit}};
  std::optional<json::value> project;
  for (auto& [name, value] : query_params(request)) {
    if (name == "project_id")
      project = json::value(value);
    else if (name == "cursor")
      query["cursor"] = value;
    else
      throw Problem(400, name + ": unknown query parameter (allowed: project_id, cursor)",
                    {{"field", name}});
  }
  context.project = project_of(project ? &*project : nullptr);
  std::string project_slug;
  json::value found =
      co_await admin_call(worker_, context, kFindMethod, std::move(query), &project_slug);
  json::object summary{{"type", "Experiment"}, {"verb", "summary"}};
  json::value cards = co_await admin_call(worker_, context, kDoMethod, std::move(summary));
  json::array experiments;
  for (const json::value& experiment : found.at("items").as_array())
    experiments.push_back(to_admin(experiment.as_object(), project_slug));
  json::object body{{"experiments", std::move(experiments)},
                    {"summary",
                     {{"total", cards.at("total")},
                      {"running", cards.at("running")},
                      {"winners_found", cards.at("winnersFound")}}}};
  if (const json::value* next = found.as_object().if_contains("nextCursor"))
    body["next_cursor"] = *next;
  // The console polls this list: an ETag over the answer lets an unchanged poll be a 304.
  co_return tagged_json_response(request, to_json_text(body));
}

asio::awaitable<HttpResponse> AdminApi::create(const HttpRequest& request, RequestContext context) {
  json::object body = read_body(request);
  only_fields(body,
              {"name", "hypothesis", "bandit_enabled", "project_id", "primary_metric", "variants"});
  context.project = project_of(member(body, "project_id"));
  json::object data;
  if (const json::value* name = body.if_contains("name")) data["name"] = *name;
  if (const json::value* hypothesis = member(body, "hypothesis")) data["hypothesis"] = *hypothesis;
  if (const json::value* bandit = member(body, "bandit_enabled")) {
    if (!bandit->is_bool())
      throw Problem(422, "bandit_enabled: must be true or false", {{"field", "bandit_enabled"}});
    data["banditEnabled"] = *bandit;
  }
  json::array notices;
  if (const json::value* metric = member(body, "primary_metric")) {
    data["primaryMetric"] = *metric;
  } else {
    data["primaryMetric"] = kDefaultMetric;
    notices.push_back(
        json::string("primary_metric: none given, so it is 'conversion' (track "
                     "{unit, metric: \"conversion\"} for each converting unit)"));
  }
  if (const json::value* variants = member(body, "variants")) {
    if (!variants->is_array())
      throw Problem(422, "variants: must be a list of {name, traffic_weight}",
                    {{"field", "variants"}});
    json::array list;
    for (std::size_t i = 0; i < variants->get_array().size(); ++i) {
      std::string where = "variants[" + std::to_string(i) + "].";
      const json::value& variant = variants->get_array()[i];
      if (!variant.is_object())
        throw Problem(422, where + ": must be an object {name, traffic_weight}",
                      {{"field", "variants"}});
      list.push_back(variant_data(variant.get_object(), where));
    }
    refuse_weights_not_adding_up(list);
    data["variants"] = std::move(list);
  }
  json::object call{{"type", "Experiment"}, {"verb", "create"}, {"data", std::move(data)}};
  std::string project_slug;
  json::value created =
      co_await admin_call(worker_, context, kDoMethod, std::move(call), &project_slug);
  json::object out = to_admin(created.as_object(), project_slug);
  out["notices"] = std::move(notices);
  HttpResponse response = rest_json(request, 201, out);
  response.set(beast_http::field::location,
               std::string(kBase) + "/" + std::string(out.at("id").as_string()));
  co_return response;
}

// Seed 000 has no separate conclusion: stopping an experiment whose analysis identified a winner
// ends it with that winner (conclude), so it counts among the winners found; without one it is a
// plain stop.
asio::awaitable<std::string> AdminApi::stop_verb(const RequestContext& context, std::string id) {
  json::object params{{"type", "Experiment"}, {"id", std::move(id)}};
  json::value current = co_await admin_call(worker_, context, kGetMethod, std::move(params));
  const json::value* winner = member(current.as_object(), "winner");
  const json::value* state = member(current.as_object(), "status");
  const bool concludes = winner && state && (*state == "Running" || *state == "Started");
  co_return concludes ? "conclude" : "stop";
}

asio::awaitable<int> AdminApi::act(const RequestContext& context, const std::string& id,
                                   const std::string& action, json::object body) {
  json::object call{{"type", "Experiment"}, {"id", id}};
  int status = 200;
  if (action == "variants") {
    call["verb"] = "addVariant";
    call["data"] = variant_data(body, "");
    status = 201;
  } else if (action == "stop") {
    refuse_fields(body, action);
    call["verb"] = co_await stop_verb(context, id);
  } else if (!action.empty()) {
    refuse_fields(body, action);
    call["verb"] = action == "launch" ? "start" : action;
  }
  if (call.contains("verb")) co_await admin_call(worker_, context, kDoMethod, std::move(call));
  co_return status;
}

asio::awaitable<HttpResponse> AdminApi::item(const HttpRequest& request, RequestContext context) {
  std::string rest(request_path(request).substr(kBase.size() + 1));
  auto slash = rest.find('/');
  std::string id = url_decode(rest.substr(0, slash), false);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  const bool get = request.method() == verb::get;
  static const std::set<std::string, std::less<>> kActions = {"variants", "launch", "stop",
                                                              "analyze"};
  if (id.empty() || (!action.empty() && !kActions.contains(action)))
    throw Problem(404, "no such path: " + std::string(request_path(request).substr(0, 200)));
  if (get != action.empty()) {
    Problem refused(405, std::string(request.method_string()) + " is not allowed here");
    refused.allow = get ? "POST" : "GET";
    throw refused;
  }
  const int status = co_await act(context, id, action, read_body(request));
  json::object get_params{{"type", "Experiment"}, {"id", id}};
  std::string project_slug;
  json::value experiment =
      co_await admin_call(worker_, context, kGetMethod, std::move(get_params), &project_slug);
  co_return rest_json(request, status, to_admin(experiment.as_object(), project_slug));
}

}  // namespace verdict::server::http::rest
