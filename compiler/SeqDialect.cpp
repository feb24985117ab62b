// Registration of the seq dialect and the generated op definitions.
#include "compiler/SeqDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;

#include "compiler/SeqDialect.cpp.inc"

#define GET_OP_CLASSES
#include "compiler/SeqOps.cpp.inc"

namespace seqjit::seq {

void SeqDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "compiler/SeqOps.cpp.inc"
      >();
}

} // namespace seqjit::seq
