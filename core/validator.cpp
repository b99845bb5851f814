#include "core/validator.hpp"

#include <cmath>
#include <cstdio>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace verdict {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxStringBytes = 64 * 1024;
constexpr std::size_t kMaxJsonBytes = 1024 * 1024;

std::string describe_kind(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

[[noreturn]] void wrong_type(std::string_view where, const char* expected,
                             const json::value& value) {
  invalid(std::string(where),
          std::string("expected ") + expected + ", got " + describe_kind(value));
}

}  // namespace

bool is_meta_field(std::string_view name) {
  return name == "id" || name == "version" || name == "createdAt" || name == "updatedAt";
}

void validate_value(const Field& field, const json::value& value, std::string_view where) {
  if (value.is_null()) {
    if (field.required) invalid(std::string(where), "is required");
    return;
  }
  switch (field.type) {
    case FieldType::kString:
    case FieldType::kRelation:
      if (!value.is_string()) wrong_type(where, "a string", value);
      if (value.get_string().size() > kMaxStringBytes)
        invalid(std::string(where), "longer than 64 KiB");
      if (field.required && value.get_string().empty()) invalid(std::string(where), "is required");
      break;
    case FieldType::kNumber: {
      if (!value.is_number()) wrong_type(where, "a number", value);
      double number = value.to_number<double>();
      if (!std::isfinite(number)) invalid(std::string(where), "must be finite");
      if ((field.min && number < *field.min) || (field.max && number > *field.max)) {
        // Plain notation ("0 and 100, got 101"); JSON's serializer would write 0E0 and 1E2.
        auto format = [](double x) {
          char text[32];
          std::snprintf(text, sizeof text, "%.15g", x);
          return std::string(text);
        };
        invalid(std::string(where), "must be between " + format(field.min.value_or(-INFINITY)) +
                                        " and " + format(field.max.value_or(INFINITY)) + ", got " +
                                        format(number));
      }
      break;
    }
    case FieldType::kBoolean:
      if (!value.is_bool()) wrong_type(where, "a boolean", value);
      break;
    case FieldType::kDatetime:
      if (!value.is_string()) wrong_type(where, "an ISO 8601 UTC datetime string", value);
      if (!is_iso8601_utc(value.get_string()))
        invalid(std::string(where), "expected an ISO 8601 UTC datetime like 2026-01-31T12:00:00Z");
      break;
    case FieldType::kEnum: {
      if (!value.is_string()) wrong_type(where, "a string", value);
      std::string_view text = value.get_string();
      for (const auto& allowed : field.enum_values)
        if (allowed == text) return;
      std::string list;
      for (const auto& allowed : field.enum_values) list += (list.empty() ? "" : ", ") + allowed;
      invalid(std::string(where),
              "'" + std::string(text.substr(0, 100)) + "' is not one of " + list);
    }
    case FieldType::kJson:
      if (json::serialize(value).size() > kMaxJsonBytes)
        invalid(std::string(where), "larger than 1 MiB");
      break;
  }
}

void validate_entity(const Schema& schema, const Noun& noun, const json::object& entity,
                     const ExistsFn& exists) {
  for (const auto& [key, value] : entity) {
    if (is_meta_field(key)) continue;
    const Field* field = noun.field(key);
    if (!field) {
      std::string known;
      for (const auto& f : noun.fields) known += (known.empty() ? "" : ", ") + f.name;
      invalid(std::string(key), "unknown field of " + noun.name + " (fields: " + known + ")");
    }
    validate_value(*field, value, key);
    if (field->type == FieldType::kRelation && !value.is_null()) {
      std::string_view id = value.get_string();
      const Noun* target =
          field->target == "*" ? schema.noun_for_id(id) : schema.find(field->target);
      if (!target || (field->target != "*" && !id.starts_with(target->id_prefix + "_")) ||
          !exists(*target, id))
        invalid(std::string(key),
                "no " + (field->target == "*" ? std::string("entity") : field->target) +
                    " with id '" + std::string(id.substr(0, 100)) + "'");
    }
  }
  for (const auto& field : noun.fields) {
    if (!field.required) continue;
    const auto* value = entity.if_contains(field.name);
    if (!value || value->is_null()) invalid(field.name, "is required");
  }
  for (const auto& validator : noun.validators) validator(entity);
}

}  // namespace verdict
