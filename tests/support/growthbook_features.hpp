// The `features` of a GrowthBook conformance case's context, compiled on demand as the server
// compiles stored flags. Shared by the `run` cases (prerequisite flags) and the `feature` cases.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/flags/feature_rules.hpp"

namespace verdict::testing_support {

class CaseFeatures {
 public:
  explicit CaseFeatures(const boost::json::object& context) {
    if (const boost::json::value* listed = context.if_contains("features"))
      definitions_ = listed->as_object();
  }
  CaseFeatures(const CaseFeatures&) = delete;
  CaseFeatures& operator=(const CaseFeatures&) = delete;

  /// Valid while this object lives.
  flags::FeatureLookup lookup() {
    return [this](std::string_view key) -> const flags::CompiledFeature* {
      if (auto known = compiled_.find(key); known != compiled_.end()) return &known->second;
      const boost::json::value* feature = definitions_.if_contains(key);
      if (!feature) return nullptr;
      return &compiled_.try_emplace(std::string(key), std::string(key), feature->as_object())
                  .first->second;
    };
  }
  const boost::json::object& definitions() const { return definitions_; }

 private:
  boost::json::object definitions_;
  std::map<std::string, flags::CompiledFeature, std::less<>> compiled_;
};

}  // namespace verdict::testing_support
