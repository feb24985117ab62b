// Linked into the suites that run under every kernel shape (tests/CMakeLists.txt): a run that asks, through
// SEQJIT_VECTOR_BITS, for vector registers wider than this CPU's skips all its tests and says why.
#include "compiler/ContractionKernels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

class VectorWidthGate : public ::testing::Environment {
public:
  void SetUp() override {
    const char *bits = std::getenv("SEQJIT_VECTOR_BITS");
    if (bits && *bits && !seqjit::vectorTargetOfWidth(static_cast<unsigned>(std::atoi(bits))))
      GTEST_SKIP() << "this CPU cannot execute " << bits << "-bit kernels: its vector registers are "
                   << seqjit::hostVectorTarget().vectorBits << " bits wide";
  }
};

[[maybe_unused]] const ::testing::Environment *const gate = ::testing::AddGlobalTestEnvironment(new VectorWidthGate);

} // namespace
