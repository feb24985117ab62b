// What every seq verifier shares: the error prefix naming the DSL layer, and the padding attribute.
#pragma once

#include "dsl/OpSpec.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"

namespace seqjit::seq {

/// An op error that starts "(layer 'name'): ", so that a message points at the DSL layer the op came from.
inline mlir::InFlightDiagnostic layerError(mlir::Operation *op) {
  auto layer = op->getAttrOfType<mlir::StringAttr>("layer");
  return op->emitOpError() << "(layer '" << (layer ? layer.getValue() : llvm::StringRef("?")) << "'): ";
}

/// Two sizes of one dimension agree: equal, or one unknown until run time (a dynamic batch).
inline bool dimsCompatible(int64_t a, int64_t b) {
  return a == b || mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b);
}

/// The padding a conv-like op names, or an error if it is neither 'same' nor 'valid'.
inline mlir::FailureOr<Padding> verifyPadding(mlir::Operation *op, llvm::StringRef name) {
  if (auto padding = parsePadding(name.str()))
    return *padding;
  return layerError(op) << "padding must be 'same' or 'valid', got '" << name << "'";
}

} // namespace seqjit::seq
