// Tests parameterised over the model zoo: every stdlib model's name, and its form as a test name.
#pragma once

#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace seqjit::testing {

inline std::vector<std::string> zooNames() {
  std::vector<std::string> names;
  for (const ModelEntry &entry : modelZoo())
    names.push_back(entry.name);
  return names;
}

/// "cnn-deep" -> "cnn_deep": gtest names allow no '-'.
inline std::string zooTestName(const ::testing::TestParamInfo<std::string> &info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

} // namespace seqjit::testing
