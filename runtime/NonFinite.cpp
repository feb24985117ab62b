// Tracing a non-finite result of a compiled program back to an argument, or to an op on the interpreter.
#include "runtime/NonFinite.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace seqjit {

bool allFinite(const HostArray<float> &array) {
  return std::all_of(array.data.begin(), array.data.end(), [](float v) { return std::isfinite(v); });
}

void diagnoseNonFinite(const std::string &program, const std::vector<NamedArray> &arguments,
                       const std::function<void()> &interpret) {
  std::string header = fmt::format("{}: the results hold NaN or infinity", program);
  for (const NamedArray &argument : arguments)
    if (!allFinite(*argument.array))
      throw Error(fmt::format("{}, and so does {}", header, argument.name));
  try {
    interpret();
  } catch (const Error &error) {
    throw Error(fmt::format("{} from finite arguments; the batch rerun on the {}", header, error.what()));
  }
  throw Error(fmt::format("{} from finite arguments, but the reference interpreter's float32 rerun stays finite "
                          "(the compiled code rounds differently on the way to an overflow)",
                          header));
}

} // namespace seqjit
