#pragma once

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <string>

namespace verdict::test_support {

/// Every number in a wire output must be finite: NaN and infinity are not JSON.
inline void expect_all_finite(const boost::json::value& value, const std::string& path = "$") {
  if (value.is_double()) {
    EXPECT_TRUE(std::isfinite(value.get_double())) << path;
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.get_array().size(); ++i)
      expect_all_finite(value.get_array()[i], path + "[" + std::to_string(i) + "]");
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.get_object())
      expect_all_finite(child, path + "." + std::string(key));
  }
}

}  // namespace verdict::test_support
