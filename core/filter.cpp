#include "core/filter.hpp"

#include <boost/regex.hpp>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "core/validator.hpp"

namespace verdict {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxListSize = 1000;
constexpr int kMaxNesting = 16;
constexpr std::size_t kMaxPatternBytes = 512;

struct Compiler {
  const Noun& noun;
  std::vector<json::value>& params;
  storage::Backend backend;

  Field field_for(std::string_view name) const {
    if (name == "id" || name == "createdAt" || name == "updatedAt") {
      Field meta;
      meta.name = std::string(name);
      meta.type = name == "id" ? FieldType::kString : FieldType::kDatetime;
      return meta;
    }
    if (name == "version") {
      Field meta;
      meta.name = "version";
      meta.type = FieldType::kNumber;
      return meta;
    }
    const Field* field = noun.field(name);
    if (!field) {
      std::string known = "id, version, createdAt, updatedAt";
      for (const auto& f : noun.fields) known += ", " + f.name;
      invalid("filter." + std::string(name),
              "unknown field of " + noun.name + " (fields: " + known + ")");
    }
    return *field;
  }

  // Operands are checked against the field type so a typo like {"confidence": "high"} is an
  // error rather than a query that silently matches nothing.
  void check_operand(const Field& field, const json::value& operand, const std::string& where) {
    if (operand.is_null()) return;
    if (field.type == FieldType::kJson)
      invalid(where, "json fields can only be filtered with $exists");
    Field loose = field;
    loose.required = false;
    loose.min.reset();
    loose.max.reset();
    validate_value(loose, operand, where);
  }

  std::string bind(const json::value& value) {
    params.push_back(value);
    return "?";
  }

  std::string comparison(const Field& field, std::string_view op, const json::value& operand,
                         const std::string& where) {
    std::string column = quote_identifier(field.name);
    if (op == "$exists") {
      if (!operand.is_bool()) invalid(where, "$exists takes true or false");
      return column + (operand.get_bool() ? " IS NOT NULL" : " IS NULL");
    }
    if (op == "$in" || op == "$nin") {
      if (!operand.is_array()) invalid(where, std::string(op) + " takes a list");
      const auto& list = operand.get_array();
      if (list.size() > kMaxListSize) invalid(where, "lists are limited to 1000 values");
      if (list.empty()) return op == "$in" ? "FALSE" : "TRUE";
      for (std::size_t i = 0; i < list.size(); ++i)
        check_operand(field, list[i], where + "[" + std::to_string(i) + "]");
      std::string values;
      if (backend == storage::Backend::kSqlite) {
        // One JSON array parameter, so every list length shares one SQL text (and one cached
        // statement); json_each yields the values with the types one bound parameter would have.
        values = "SELECT value FROM json_each(" + bind(json::value(json::serialize(list))) + ")";
      } else {
        // A parameter per value: PostgreSQL types each one from the column it is compared with.
        for (const auto& value : list) values += (values.empty() ? "" : ", ") + bind(value);
      }
      std::string sql = column + (op == "$in" ? " IN (" : " NOT IN (") + values + ")";
      return op == "$nin" ? "(" + column + " IS NULL OR " + sql + ")" : sql;
    }
    if (op == "$regex") {
      if (!operand.is_string()) invalid(where, "$regex takes a pattern string");
      if (field.type == FieldType::kNumber || field.type == FieldType::kBoolean ||
          field.type == FieldType::kJson)
        invalid(where, "$regex applies to text fields only");
      if (operand.get_string().size() > kMaxPatternBytes)
        invalid(where, "$regex patterns are limited to 512 bytes");
      // Compiled here too (as the store's REGEXP does), so a bad pattern is the caller's error.
      try {
        boost::regex(std::string(operand.get_string()), boost::regex::ECMAScript);
      } catch (const std::exception&) {
        invalid(where, "not a valid regular expression");
      }
      return column + (backend == storage::Backend::kSqlite ? " REGEXP " : " ~ ") + bind(operand);
    }
    static const std::pair<std::string_view, std::string_view> kOperators[] = {
        {"$eq", "="}, {"$ne", "<>"}, {"$gt", ">"}, {"$gte", ">="}, {"$lt", "<"}, {"$lte", "<="}};
    for (const auto& [name, sql] : kOperators) {
      if (op != name) continue;
      check_operand(field, operand, where);
      if (operand.is_null()) {
        if (op == "$eq") return column + " IS NULL";
        if (op == "$ne") return column + " IS NOT NULL";
        invalid(where, std::string(op) + " cannot compare with null");
      }
      if (op == "$ne") return "(" + column + " IS NULL OR " + column + " <> " + bind(operand) + ")";
      return column + " " + std::string(sql) + " " + bind(operand);
    }
    invalid(where, "unknown operator " + std::string(clip_utf8(op, 40)) +
                       " (supported: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex)");
  }

  std::string field_condition(std::string_view name, const json::value& condition) {
    Field field = field_for(name);
    std::string where = "filter." + std::string(name);
    bool is_operator_object = condition.is_object() && !condition.get_object().empty() &&
                              condition.get_object().begin()->key().starts_with("$");
    if (!is_operator_object) return comparison(field, "$eq", condition, where);
    std::string sql;
    for (const auto& [op, operand] : condition.get_object()) {
      if (!op.starts_with("$")) invalid(where, "cannot mix operators and values");
      sql += (sql.empty() ? "" : " AND ") +
             comparison(field, op, operand, where + "." + std::string(op));
    }
    return "(" + sql + ")";
  }

  std::string object(const json::object& filter, int depth) {
    if (depth > kMaxNesting) invalid("filter", "nested more than 16 levels");
    std::string sql;
    for (const auto& [key, value] : filter) {
      std::string part;
      if (key == "$and" || key == "$or" || key == "$nor") {
        if (!value.is_array() || value.get_array().empty())
          invalid("filter." + std::string(key), "takes a non-empty list of filters");
        if (value.get_array().size() > kMaxListSize)
          invalid("filter." + std::string(key), "lists are limited to 1000 filters");
        std::string joiner = key == "$and" ? " AND " : " OR ";
        for (const auto& sub : value.get_array()) {
          if (!sub.is_object()) invalid("filter." + std::string(key), "takes a list of objects");
          part += (part.empty() ? "" : joiner) + object(sub.get_object(), depth + 1);
        }
        // A clause on a missing (NULL) field is unknown, not false; $nor counts it as not
        // matching, as MongoDB does, instead of letting NOT NULL drop the row.
        part = (key == "$nor" ? "NOT COALESCE((" + part + "), FALSE)" : "(" + part + ")");
      } else if (key.starts_with("$")) {
        invalid("filter." + std::string(clip_utf8(key, 40)),
                "unknown top-level operator (supported: $and, $or, $nor)");
      } else {
        part = field_condition(key, value);
      }
      sql += (sql.empty() ? "" : " AND ") + part;
    }
    return sql.empty() ? "TRUE" : sql;
  }
};

}  // namespace

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';  // doubled: the only escape inside a quoted identifier
    quoted += c;
  }
  return quoted + "\"";
}

SqlCondition compile_filter(const Noun& noun, const json::object& filter,
                            storage::Backend backend) {
  SqlCondition condition;
  Compiler compiler{noun, condition.params, backend};
  condition.sql = compiler.object(filter, 0);
  return condition;
}

std::vector<SortKey> parse_sort(const Noun& noun, const json::object& sort) {
  std::vector<SortKey> keys;
  for (const auto& [key, direction] : sort) {
    std::string where = "sort." + std::string(key);
    if (!noun.field(key) && !is_meta_field(key)) invalid(where, "unknown field of " + noun.name);
    bool descending;
    if (direction == "asc" || direction == 1) {
      descending = false;
    } else if (direction == "desc" || direction == -1) {
      descending = true;
    } else {
      invalid(where, "direction must be \"asc\", \"desc\", 1 or -1");
    }
    keys.push_back({std::string(key), descending});
  }
  // The id breaks ties in the direction of the last key, so one index on (key, id) read
  // forwards or backwards serves either direction without a sort.
  keys.push_back({"id", !keys.empty() && keys.back().descending});
  return keys;
}

std::string order_by(const std::vector<SortKey>& keys, storage::Backend backend) {
  std::string sql;
  for (const auto& key : keys) {
    sql += (sql.empty() ? "" : ", ") + quote_identifier(key.field) +
           (key.descending ? " DESC" : " ASC");
    // PostgreSQL's default is the opposite; SQLite's spelled out could cost it its index. Meta
    // fields are never NULL, and their plain order is the one their indexes have.
    if (backend == storage::Backend::kPostgres && !is_meta_field(key.field))
      sql += key.descending ? " NULLS LAST" : " NULLS FIRST";
  }
  return sql;
}

}  // namespace verdict
