// The seq dialect and its ops, for C++ users of the compiler.
#pragma once

#include "dsl/OpSpec.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "compiler/SeqDialect.h.inc"

#define GET_OP_CLASSES
#include "compiler/SeqOps.h.inc"
