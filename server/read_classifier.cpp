#include "server/read_classifier.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <cstdint>
#include <string>

namespace verdict::server {

namespace {

using boost::json::error_code;
using boost::json::string_view;

/// Collects the top-level `method` and `params.name` while Boost.JSON's SAX parser walks the
/// line; every other value is skipped without a copy.
class MethodScanner {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::string method;
  std::string name;
  int methods = 0;
  int params = 0;
  int names = 0;
  bool top_level_object = false;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return begin(false); }
  bool on_array_end(std::size_t, error_code&) { return end(); }
  bool on_object_begin(error_code&) { return begin(true); }
  bool on_object_end(std::size_t, error_code&) { return end(); }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (std::string* target = text_target()) target->append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    if (std::string* target = text_target()) target->append(s.data(), s.size());
    value_ = Slot::kNone;
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    value_ = Slot::kNone;
    if (depth_ == 1 && key_ == "method") {
      ++methods;
      value_ = Slot::kMethod;
    } else if (depth_ == 1 && key_ == "params") {
      ++params;
      value_ = Slot::kParams;
    } else if (depth_ == 2 && in_params_ && key_ == "name") {
      ++names;
      value_ = Slot::kName;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return scalar(); }
  bool on_double(double, string_view, error_code&) { return scalar(); }
  bool on_bool(bool, error_code&) { return scalar(); }
  bool on_null(error_code&) { return scalar(); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  enum class Slot { kNone, kMethod, kParams, kName };

  // The string the current value goes to; a method or name that is not a string stays empty.
  std::string* text_target() {
    if (value_ == Slot::kMethod) return &method;
    if (value_ == Slot::kName) return &name;
    return nullptr;
  }
  bool begin(bool object) {
    if (depth_ == 0) top_level_object = object;
    if (depth_ == 1 && value_ == Slot::kParams && object) in_params_ = true;
    value_ = Slot::kNone;
    ++depth_;
    return true;
  }
  bool end() {
    --depth_;
    if (depth_ == 1) in_params_ = false;
    return true;
  }
  bool scalar() {
    value_ = Slot::kNone;
    return true;
  }

  int depth_ = 0;
  bool in_params_ = false;
  Slot value_ = Slot::kNone;
  std::string key_;
};

}  // namespace

bool is_read_only(std::string_view line) {
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::basic_parser<MethodScanner> parser(options);
  error_code ec;
  parser.write_some(false, line.data(), line.size(), ec);
  const MethodScanner& scan = parser.handler();
  if (ec || !scan.top_level_object || scan.methods != 1 || scan.params > 1 || scan.names > 1)
    return false;
  const std::string& method = scan.method;
  if (method == "get" || method == "find" || method == "ping" || method == "resources/read")
    return true;
  return method == "tools/call" && (scan.name == "get" || scan.name == "find");
}

}  // namespace verdict::server
