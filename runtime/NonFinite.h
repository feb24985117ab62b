// What a compiled program does when its results hold NaN or infinity: find the argument or op that caused it.
#pragma once

#include "runtime/HostArray.h"

#include <functional>
#include <string>
#include <vector>

namespace seqjit {

bool allFinite(const HostArray<float> &array);

/// An argument of a program as messages name it ("the input", "parameter 'conv1.weight'").
struct NamedArray {
  std::string name;
  const HostArray<float> *array;
};

/// Called when a compiled program's results are not all finite; always throws seqjit::Error. It names the first
/// non-finite argument if there is one; else it calls `interpret`, which reruns the program on the reference
/// interpreter with checkNumerics and throws naming the op and layer that first turned finite values into NaN or
/// infinity; if even that stays finite, it says so.
[[noreturn]] void diagnoseNonFinite(const std::string &program, const std::vector<NamedArray> &arguments,
                                    const std::function<void()> &interpret);

} // namespace seqjit
