// How much the pipelines fuse, chosen per run: for kernel-fusion experiments, every level computes the same results.
#pragma once

#include <string>

namespace seqjit {

enum class FusionLevel {
  /// Every linalg op its own loop nest (its own GPU kernel): no elementwise fusion, contraction kernels store their
  /// results and the elementwise op after them reads them back.
  None,
  /// Contraction kernels apply the elementwise op after them (batch norm, an activation) to their accumulators before
  /// storing them; on the GPU, adjacent loops over the same index space fuse. Elementwise ops stay apart.
  Epilogue,
  /// Everything: chains of elementwise ops fuse into one loop nest too, and on the GPU a convolution read only by a
  /// pool is recomputed inside it. The default.
  Full,
};

/// "none", "epilogue" or "full".
const char *fusionLevelName(FusionLevel level);

/// The level named `name`; throws seqjit::Error naming `what` (the option or variable it came from) and the choices.
FusionLevel parseFusionLevel(const std::string &name, const std::string &what);

/// The level the pipelines compile with: the one setFusionLevel() chose, else SEQJIT_FUSION, else Full. Throws
/// seqjit::Error for an unknown SEQJIT_FUSION.
FusionLevel fusionLevel();

/// Chooses the level for every program this process compiles from now on (the --fusion option).
void setFusionLevel(FusionLevel level);

} // namespace seqjit
