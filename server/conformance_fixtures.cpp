#include "server/conformance_fixtures.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

// The suite's own 1x1 PNG and minimal WAV (examples/servers/typescript/everything-server.ts).
constexpr std::string_view kImage =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg"
    "==";
constexpr std::string_view kAudio = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

struct ToolSpec {
  std::string_view name;
  std::string_view description;
};

constexpr std::array<ToolSpec, 10> kTools = {{
    {"test_simple_text", "Tests simple text content response"},
    {"test_image_content", "Tests image content response"},
    {"test_audio_content", "Tests audio content response"},
    {"test_embedded_resource", "Tests embedded resource content response"},
    {"test_multiple_content_types",
     "Tests response with multiple content types (text, image, resource)"},
    {"test_tool_with_logging", "Tests tool that emits log messages during execution"},
    {"test_logging_tool", "Emits a log message only when the request set a log level"},
    {"test_tool_with_progress", "Tests tool that reports progress notifications"},
    {"test_error_handling", "Tests error response handling"},
    {"test_missing_capability", "Test tool requiring sampling"},
}};

json::object text(std::string_view value) {
  return {{"type", "text"}, {"text", value}};
}

json::object image() {
  return {{"type", "image"}, {"data", kImage}, {"mimeType", "image/png"}};
}

json::object embedded(std::string_view uri, std::string_view mime_type, std::string_view body) {
  return {{"type", "resource"},
          {"resource", {{"uri", uri}, {"mimeType", mime_type}, {"text", body}}}};
}

json::object user(json::object content) {
  return {{"role", "user"}, {"content", std::move(content)}};
}

std::string string_argument(const json::object& arguments, std::string_view name) {
  const auto* value = arguments.if_contains(name);
  if (!value || !value->is_string()) invalid(std::string(name), "required string argument");
  return std::string(value->get_string());
}

}  // namespace

json::array ConformanceFixtures::tools() const {
  json::array tools;
  for (const auto& tool : kTools)
    tools.push_back({{"name", tool.name},
                     {"description", tool.description},
                     {"inputSchema", {{"type", "object"}, {"properties", json::object{}}}}});
  return tools;
}

bool ConformanceFixtures::has_tool(std::string_view name) const {
  return std::any_of(kTools.begin(), kTools.end(),
                     [&](const ToolSpec& tool) { return tool.name == name; });
}

std::optional<std::string> ConformanceFixtures::required_capability(std::string_view name) const {
  if (name == "test_missing_capability") return "sampling";
  return std::nullopt;
}

json::object ConformanceFixtures::call_tool(std::string_view name,
                                            const ToolContext& context) const {
  json::array content;
  if (name == "test_simple_text") {
    content.push_back(text("This is a simple text response for testing."));
  } else if (name == "test_image_content") {
    content.push_back(image());
  } else if (name == "test_audio_content") {
    content.push_back({{"type", "audio"}, {"data", kAudio}, {"mimeType", "audio/wav"}});
  } else if (name == "test_embedded_resource") {
    content.push_back(embedded("test://embedded-resource", "text/plain",
                               "This is an embedded resource content."));
  } else if (name == "test_multiple_content_types") {
    content = {text("Multiple content types test:"), image(),
               embedded("test://mixed-content-resource", "application/json",
                        R"({"test":"data","value":123})")};
  } else if (name == "test_tool_with_logging") {
    for (std::string_view message :
         {"Tool execution started", "Tool processing data", "Tool execution completed"})
      context.log("info", json::string(message));
    content.push_back(text("Tool with logging executed successfully"));
  } else if (name == "test_logging_tool") {
    if (context.log_level_set) context.log("info", "Diagnostic trace logging activated");
    content.push_back(text("Logging evaluated"));
  } else if (name == "test_tool_with_progress") {
    json::value token = context.progress_token ? *context.progress_token : json::value(0);
    for (int step : {0, 50, 100})
      context.progress({{"progressToken", token},
                        {"progress", step},
                        {"total", 100},
                        {"message", "Completed step " + std::to_string(step) + " of 100"}});
    content.push_back(
        text(token.is_string() ? std::string(token.get_string()) : json::serialize(token)));
  } else if (name == "test_error_handling") {
    return {{"content", {text("This tool intentionally returns an error for testing")}},
            {"isError", true}};
  } else if (name == "test_missing_capability") {
    content.push_back(text("Success"));
  }
  return {{"content", std::move(content)}};
}

json::array ConformanceFixtures::resources() const {
  return {{{"uri", "test://static-text"},
           {"name", "static-text"},
           {"title", "Static Text Resource"},
           {"description", "A static text resource for testing"},
           {"mimeType", "text/plain"}},
          {{"uri", "test://static-binary"},
           {"name", "static-binary"},
           {"title", "Static Binary Resource"},
           {"description", "A static binary resource (image) for testing"},
           {"mimeType", "image/png"}}};
}

json::array ConformanceFixtures::resource_templates() const {
  return {{{"uriTemplate", "test://template/{id}/data"},
           {"name", "template"},
           {"title", "Resource Template"},
           {"description", "A resource template with parameter substitution"},
           {"mimeType", "application/json"}}};
}

std::optional<json::array> ConformanceFixtures::read_resource(std::string_view uri) const {
  if (uri == "test://static-text")
    return json::array{{{"uri", uri},
                        {"mimeType", "text/plain"},
                        {"text", "This is the content of the static text resource."}}};
  if (uri == "test://static-binary")
    return json::array{{{"uri", uri}, {"mimeType", "image/png"}, {"blob", kImage}}};
  constexpr std::string_view kPrefix = "test://template/", kSuffix = "/data";
  if (uri.starts_with(kPrefix) && uri.ends_with(kSuffix) &&
      uri.size() > kPrefix.size() + kSuffix.size()) {
    std::string id(uri.substr(kPrefix.size(), uri.size() - kPrefix.size() - kSuffix.size()));
    if (id.find('/') != std::string::npos) return std::nullopt;
    json::object body{{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
    return json::array{
        {{"uri", uri}, {"mimeType", "application/json"}, {"text", json::serialize(body)}}};
  }
  return std::nullopt;
}

json::array ConformanceFixtures::prompts() const {
  return {{{"name", "test_simple_prompt"},
           {"title", "Simple Test Prompt"},
           {"description", "A simple prompt without arguments"}},
          {{"name", "test_prompt_with_arguments"},
           {"title", "Prompt With Arguments"},
           {"description", "A prompt with required arguments"},
           {"arguments",
            {{{"name", "arg1"}, {"description", "First test argument"}, {"required", true}},
             {{"name", "arg2"}, {"description", "Second test argument"}, {"required", true}}}}},
          {{"name", "test_prompt_with_embedded_resource"},
           {"title", "Prompt With Embedded Resource"},
           {"description", "A prompt that includes an embedded resource"},
           {"arguments",
            {{{"name", "resourceUri"},
              {"description", "URI of the resource to embed"},
              {"required", true}}}}},
          {{"name", "test_prompt_with_image"},
           {"title", "Prompt With Image"},
           {"description", "A prompt that includes image content"}}};
}

bool ConformanceFixtures::has_prompt(std::string_view name) const {
  return name == "test_simple_prompt" || name == "test_prompt_with_arguments" ||
         name == "test_prompt_with_embedded_resource" || name == "test_prompt_with_image";
}

json::object ConformanceFixtures::get_prompt(std::string_view name,
                                             const json::object& arguments) const {
  json::array messages;
  if (name == "test_simple_prompt") {
    messages.push_back(user(text("This is a simple prompt for testing.")));
  } else if (name == "test_prompt_with_arguments") {
    messages.push_back(
        user(text("Prompt with arguments: arg1='" + string_argument(arguments, "arg1") +
                  "', arg2='" + string_argument(arguments, "arg2") + "'")));
  } else if (name == "test_prompt_with_embedded_resource") {
    messages = {user(embedded(string_argument(arguments, "resourceUri"), "text/plain",
                              "Embedded resource content for testing.")),
                user(text("Please process the embedded resource above."))};
  } else {
    messages = {user(image()), user(text("Please analyze the image above."))};
  }
  return {{"messages", std::move(messages)}};
}

}  // namespace verdict::server
