// Calling a compiled function on host arrays from a test: views of the arguments in, fresh arrays of the given shapes
// out.
#pragma once

#include "runtime/HostArray.h"
#include "runtime/Program.h"

#include <string>
#include <vector>

namespace seqjit::testing {

/// `function`(arguments) with one result of each of `resultShapes`.
inline std::vector<HostArray<float>> callCompiled(const Program &program, const std::string &function,
                                                  std::vector<HostArray<float>> &arguments,
                                                  const std::vector<std::vector<int64_t>> &resultShapes) {
  std::vector<HostArray<float>> results;
  std::vector<BufferView> argumentViews, resultViews;
  for (auto &a : arguments)
    argumentViews.push_back({a.data.data(), a.shape});
  for (const auto &shape : resultShapes)
    results.emplace_back(shape);
  for (auto &r : results)
    resultViews.push_back({r.data.data(), r.shape});
  program.call(function, argumentViews, resultViews);
  return results;
}

} // namespace seqjit::testing
