#pragma once

#include "core/clock.hpp"

namespace verdict::test_support {

/// A Clock that moves only when the test says so: schedules are tested without sleeping.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point now) : now_(now) {}
  time_point now() const override { return now_; }
  void set(time_point now) { now_ = now; }

 private:
  time_point now_;
};

}  // namespace verdict::test_support
