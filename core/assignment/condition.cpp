#include "core/assignment/condition.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/regex.hpp>

#include "core/assignment/js_coercion.hpp"
#include "core/assignment/utf16.hpp"

namespace verdict::assignment {
namespace {

namespace json = boost::json;

constexpr std::size_t kRegexCacheCapacity = 256;
constexpr std::size_t kVersionPartWidth = 5;

enum class Operator {
  kEq,
  kNe,
  kLt,
  kLte,
  kGt,
  kGte,
  kVeq,
  kVne,
  kVlt,
  kVlte,
  kVgt,
  kVgte,
  kExists,
  kIn,
  kNin,
  kIni,
  kNini,
  kAll,
  kAlli,
  kInGroup,
  kNotInGroup,
  kNot,
  kSize,
  kElemMatch,
  kType,
  kRegex,
  kRegexi,
  kNotRegex,
  kNotRegexi,
  kUnknown,
};

constexpr std::array<std::pair<std::string_view, Operator>, 29> kOperators{{
    {"$eq", Operator::kEq},
    {"$ne", Operator::kNe},
    {"$lt", Operator::kLt},
    {"$lte", Operator::kLte},
    {"$gt", Operator::kGt},
    {"$gte", Operator::kGte},
    {"$veq", Operator::kVeq},
    {"$vne", Operator::kVne},
    {"$vlt", Operator::kVlt},
    {"$vlte", Operator::kVlte},
    {"$vgt", Operator::kVgt},
    {"$vgte", Operator::kVgte},
    {"$exists", Operator::kExists},
    {"$in", Operator::kIn},
    {"$nin", Operator::kNin},
    {"$ini", Operator::kIni},
    {"$nini", Operator::kNini},
    {"$all", Operator::kAll},
    {"$alli", Operator::kAlli},
    {"$inGroup", Operator::kInGroup},
    {"$notInGroup", Operator::kNotInGroup},
    {"$not", Operator::kNot},
    {"$size", Operator::kSize},
    {"$elemMatch", Operator::kElemMatch},
    {"$type", Operator::kType},
    {"$regex", Operator::kRegex},
    {"$regexi", Operator::kRegexi},
    {"$notRegex", Operator::kNotRegex},
    {"$notRegexi", Operator::kNotRegexi},
}};

Operator parse_operator(std::string_view name) {
  for (const auto& [candidate, op] : kOperators) {
    if (candidate == name) return op;
  }
  return Operator::kUnknown;
}

const json::value& null_value() {
  static const json::value kNull;
  return kNull;
}

// GrowthBook's getPath; array elements are reachable by index, as `"0" in array` is true.
const json::value& get_path(const json::object* root, std::string_view path) {
  if (!root) return null_value();
  const json::value* current = nullptr;
  const json::object* object = root;
  const json::array* array = nullptr;
  while (true) {
    const std::size_t dot = path.find('.');
    const std::string_view part = path.substr(0, dot);
    current = nullptr;
    if (object) {
      current = object->if_contains(part);
    } else if (array && !part.empty() && part.size() < 10 &&
               part.find_first_not_of("0123456789") == std::string_view::npos &&
               (part == "0" || part.front() != '0')) {
      std::size_t index = 0;
      std::from_chars(part.data(), part.data() + part.size(), index);
      if (index < array->size()) current = &(*array)[index];
    }
    if (!current) return null_value();
    if (dot == std::string_view::npos) return *current;
    path.remove_prefix(dot + 1);
    object = current->if_object();
    array = current->if_array();
  }
}

bool is_operator_object(const json::object& object) {
  if (object.empty()) return false;
  for (const auto& entry : object) {
    if (entry.key().empty() || entry.key().front() != '$') return false;
  }
  return true;
}

std::string_view type_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
    default:
      return "number";
  }
}

// JSON.stringify(a) === JSON.stringify(b) for parsed JSON: same structure, same key order.
bool same_json(const json::value& a, const json::value& b) {
  if (a.is_number() || b.is_number()) return js::strict_equals(a, b);
  if (a.kind() != b.kind()) return false;
  if (const json::array* left = a.if_array()) {
    const json::array& right = b.get_array();
    if (left->size() != right.size()) return false;
    for (std::size_t i = 0; i < left->size(); ++i) {
      if (!same_json((*left)[i], right[i])) return false;
    }
    return true;
  }
  if (const json::object* left = a.if_object()) {
    const json::object& right = b.get_object();
    if (left->size() != right.size()) return false;
    for (auto l = left->begin(), r = right.begin(); l != left->end(); ++l, ++r) {
      if (l->key() != r->key() || !same_json(l->value(), r->value())) return false;
    }
    return true;
  }
  return js::strict_equals(a, b);
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// `===` after GrowthBook's case fold, which lowercases strings only.
bool equals_folded(const json::value& a, const json::value& b, bool insensitive) {
  if (insensitive && a.is_string() && b.is_string()) {
    return equals_ignoring_ascii_case(a.get_string(), b.get_string());
  }
  return js::strict_equals(a, b);
}

// Attribute arrays intersect with the expected list; scalars must be one of it.
bool is_in(const json::value& actual, const json::array& expected, bool insensitive) {
  const auto contains = [&](const json::value& candidate) {
    for (const json::value& item : expected) {
      if (equals_folded(candidate, item, insensitive)) return true;
    }
    return false;
  };
  if (const json::array* elements = actual.if_array()) {
    for (const json::value& element : *elements) {
      if (contains(element)) return true;
    }
    return false;
  }
  return contains(actual);
}

std::string_view string_form(const json::value& value, std::string& storage) {
  if (const json::string* text = value.if_string()) return *text;
  storage = js::to_string(value);
  return storage;
}

// JavaScript's `new RegExp(pattern, flags).test(subject)`; nullopt when the pattern does not
// compile or a bound is exceeded, which GrowthBook's try/catch turns into a non-match.
std::optional<bool> regex_test(const json::value& pattern, const json::value& subject,
                               bool insensitive) {
  std::string pattern_storage;
  std::string subject_storage;
  const std::string_view pattern_text = string_form(pattern, pattern_storage);
  const std::string_view subject_text = string_form(subject, subject_storage);
  if (pattern_text.size() > kMaxRegexPatternLength ||
      subject_text.size() > kMaxRegexSubjectLength) {
    return std::nullopt;
  }

  // Compiling dominates matching, and conditions repeat, so keep compiled patterns; a miss
  // on a full cache starts it afresh, which bounds its memory without bookkeeping.
  // Boost.Regex, not std::regex: libstdc++'s matcher backtracks without bound (`(a+)+$`, or
  // `n*****` which it accepts although JavaScript rejects it, ran for minutes on a 2-byte
  // subject) and recurses per character; Boost's throws error_complexity instead, a non-match.
  thread_local std::unordered_map<std::string, std::optional<boost::regex>> cache;
  std::string key(pattern_text);
  key += insensitive ? "/i" : "/";
  auto found = cache.find(key);
  if (found == cache.end()) {
    if (cache.size() >= kRegexCacheCapacity) cache.clear();
    std::optional<boost::regex> compiled;
    try {
      boost::regex::flag_type flags = boost::regex::ECMAScript;
      if (insensitive) flags |= boost::regex::icase;
      compiled.emplace(pattern_text.begin(), pattern_text.end(), flags);
    } catch (const std::exception&) {
      // Left empty: an invalid pattern is cached as a non-match.
    }
    found = cache.emplace(std::move(key), std::move(compiled)).first;
  }
  if (!found->second) return std::nullopt;
  try {
    return boost::regex_search(subject_text.begin(), subject_text.end(), *found->second);
  } catch (const std::exception&) {
    return std::nullopt;  // error_complexity or error_stack while matching
  }
}

// Recursive evaluation with GrowthBook's function structure (evalCondition,
// evalConditionValue, evalOperatorCondition). A malformed piece sets `malformed_`, which
// fails the whole condition: failing it locally would turn into a match under $not or $nor.
class Evaluator {
 public:
  explicit Evaluator(const json::object& saved_groups) : saved_groups_(saved_groups) {}

  bool malformed() const { return malformed_; }

  bool condition(const json::object* tested, const json::value& condition, int depth) {
    const json::object* object = condition.if_object();
    if (!object) return fail();
    return this->condition(tested, *object, depth);
  }

  bool condition(const json::object* tested, const json::object& condition, int depth) {
    if (depth > kMaxConditionDepth) return fail();
    for (const auto& entry : condition) {
      const std::string_view key = entry.key();
      const json::value& value = entry.value();
      if (key == "$or") {
        if (!any_of(tested, value, depth)) return false;
      } else if (key == "$nor") {
        if (any_of(tested, value, depth)) return false;
      } else if (key == "$and") {
        if (!all_of(tested, value, depth)) return false;
      } else if (key == "$not") {
        if (this->condition(tested, value, depth + 1)) return false;
      } else if (!condition_value(value, get_path(tested, key), depth + 1)) {
        return false;
      }
      if (malformed_) return false;
    }
    return true;
  }

 private:
  bool fail() {
    malformed_ = true;
    return false;
  }

  // An empty $or matches, as in GrowthBook.
  bool any_of(const json::object* tested, const json::value& conditions, int depth) {
    const json::array* list = conditions.if_array();
    if (!list) return fail();
    if (list->empty()) return true;
    for (const json::value& item : *list) {
      if (condition(tested, item, depth + 1)) return true;
    }
    return false;
  }

  bool all_of(const json::object* tested, const json::value& conditions, int depth) {
    const json::array* list = conditions.if_array();
    if (!list) return fail();
    for (const json::value& item : *list) {
      if (!condition(tested, item, depth + 1)) return false;
    }
    return true;
  }

  bool condition_value(const json::value& expected, const json::value& actual, int depth,
                       bool insensitive = false) {
    if (depth > kMaxConditionDepth) return fail();
    switch (expected.kind()) {
      case json::kind::string: {
        std::string storage;
        const std::string_view text = string_form(actual, storage);
        return insensitive ? equals_ignoring_ascii_case(text, expected.get_string())
                           : text == expected.get_string();
      }
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_:
        return js::to_number(actual) == js::to_number(expected);
      case json::kind::bool_:
        return !actual.is_null() && js::truthy(actual) == expected.get_bool();
      case json::kind::null:
        return actual.is_null();
      case json::kind::array:
        return same_json(actual, expected);
      case json::kind::object:
        break;
    }
    const json::object& operators = expected.get_object();
    if (!is_operator_object(operators)) return same_json(actual, expected);
    for (const auto& entry : operators) {
      if (!operator_condition(parse_operator(entry.key()), actual, entry.value(), depth)) {
        return false;
      }
    }
    return true;
  }

  bool operator_condition(Operator op, const json::value& actual, const json::value& expected,
                          int depth) {
    switch (op) {
      case Operator::kEq:
        return js::strict_equals(actual, expected);
      case Operator::kNe:
        return !js::strict_equals(actual, expected);
      case Operator::kLt:
        return std::is_lt(js::compare(actual, expected));
      case Operator::kLte:
        return std::is_lteq(js::compare(actual, expected));
      case Operator::kGt:
        return std::is_gt(js::compare(actual, expected));
      case Operator::kGte:
        return std::is_gteq(js::compare(actual, expected));
      case Operator::kVeq:
      case Operator::kVne:
      case Operator::kVlt:
      case Operator::kVlte:
      case Operator::kVgt:
      case Operator::kVgte:
        return version_condition(op, actual, expected);
      case Operator::kExists:
        return js::truthy(expected) ? !actual.is_null() : actual.is_null();
      case Operator::kIn:
      case Operator::kIni:
        return expected.is_array() && is_in(actual, expected.get_array(), op == Operator::kIni);
      case Operator::kNin:
      case Operator::kNini:
        return expected.is_array() && !is_in(actual, expected.get_array(), op == Operator::kNini);
      case Operator::kAll:
      case Operator::kAlli:
        return expected.is_array() &&
               is_in_all(actual, expected.get_array(), depth, op == Operator::kAlli);
      case Operator::kInGroup:
      case Operator::kNotInGroup: {
        const json::array* group = saved_group(expected);
        if (!group) return false;
        return is_in(actual, *group, false) == (op == Operator::kInGroup);
      }
      case Operator::kNot:
        return !condition_value(expected, actual, depth + 1);
      case Operator::kSize: {
        const json::array* elements = actual.if_array();
        if (!elements) return false;
        const json::value size(static_cast<std::int64_t>(elements->size()));
        return condition_value(expected, size, depth + 1);
      }
      case Operator::kElemMatch:
        return elem_match(actual, expected, depth);
      case Operator::kType:
        return expected.is_string() && expected.get_string() == type_name(actual);
      case Operator::kRegex:
      case Operator::kRegexi:
        return regex_test(expected, actual, op == Operator::kRegexi).value_or(false);
      case Operator::kNotRegex:
      case Operator::kNotRegexi: {
        const std::optional<bool> matched =
            regex_test(expected, actual, op == Operator::kNotRegexi);
        return matched && !*matched;
      }
      case Operator::kUnknown:
        break;
    }
    return false;
  }

  static bool version_condition(Operator op, const json::value& actual,
                                const json::value& expected) {
    const int order = compare_utf16(padded_version_string(actual), padded_version_string(expected));
    switch (op) {
      case Operator::kVeq:
        return order == 0;
      case Operator::kVne:
        return order != 0;
      case Operator::kVlt:
        return order < 0;
      case Operator::kVlte:
        return order <= 0;
      case Operator::kVgt:
        return order > 0;
      default:
        return order >= 0;
    }
  }

  // Every expected item must match some element of the attribute array.
  bool is_in_all(const json::value& actual, const json::array& expected, int depth,
                 bool insensitive) {
    const json::array* elements = actual.if_array();
    if (!elements) return false;
    for (const json::value& item : expected) {
      bool found = false;
      for (const json::value& element : *elements) {
        if (condition_value(item, element, depth + 1, insensitive)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  // Falsy elements never match, as GrowthBook tests `actual[i] && check(actual[i])`.
  bool elem_match(const json::value& actual, const json::value& expected, int depth) {
    const json::array* elements = actual.if_array();
    if (!elements) return false;
    const json::object* condition_object = expected.if_object();
    if (!condition_object) return fail();
    const bool operators = is_operator_object(*condition_object);
    for (const json::value& element : *elements) {
      if (!js::truthy(element)) continue;
      const bool matched = operators ? condition_value(expected, element, depth + 1)
                                     : condition(element.if_object(), *condition_object, depth + 1);
      if (matched) return true;
    }
    return false;
  }

  // GrowthBook reads `savedGroups[id] || []`: an unknown group is empty.
  const json::array* saved_group(const json::value& id) {
    static const json::array kEmpty;
    std::string storage;
    const json::value* group = saved_groups_.if_contains(string_form(id, storage));
    if (!group || !js::truthy(*group)) return &kEmpty;
    if (!group->is_array()) {
      fail();
      return nullptr;
    }
    return &group->get_array();
  }

  const json::object& saved_groups_;
  bool malformed_ = false;
};

bool is_ascii_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

bool eval_condition(const json::object& attributes, const json::object& condition,
                    const json::object& saved_groups) {
  Evaluator evaluator(saved_groups);
  const bool matched = evaluator.condition(&attributes, condition, 0);
  return matched && !evaluator.malformed();
}

std::string padded_version_string(const json::value& version) {
  std::string text = version.is_number() ? js::to_string(version) : "";
  if (const json::string* given = version.if_string()) text = *given;
  if (text.empty()) text = "0";

  std::string_view rest = text;
  if (rest.front() == 'v') rest.remove_prefix(1);
  rest = rest.substr(0, rest.find('+'));

  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t separator = rest.find_first_of(".-");
    parts.push_back(rest.substr(0, separator));
    if (separator == std::string_view::npos) break;
    rest.remove_prefix(separator + 1);
  }
  // "~" sorts after every pre-release tag, so 1.0.0 > 1.0.0-beta.
  if (parts.size() == 3) parts.push_back("~");

  std::string padded;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) padded += '-';
    if (is_ascii_digits(parts[i]) && parts[i].size() < kVersionPartWidth) {
      padded.append(kVersionPartWidth - parts[i].size(), ' ');
    }
    padded += parts[i];
  }
  return padded;
}

}  // namespace verdict::assignment
