// The seq dialect: genomic CNN layers as MLIR ops on ranked tensors (N, C, L) or (N, F).
#ifndef SEQ_DIALECT_TD
#define SEQ_DIALECT_TD

include "mlir/IR/OpBase.td"

def Seq_Dialect : Dialect {
  let name = "seq";
  let summary = "Layers of genomic convolutional networks";
  let description = [{
    Every op takes and returns ranked float tensors whose first dimension is the batch
    (static or dynamic). Each op's verifier calls the same shape function as the C++ DSL
    (dsl/ShapeFunctions.h), so a graph the DSL accepts is a module the verifier accepts.
    The `layer` attribute carries the DSL layer name for error messages and state_dict keys.
  }];
  let cppNamespace = "::seqjit::seq";
}

class Seq_Op<string mnemonic, list<Trait> traits = []> : Op<Seq_Dialect, mnemonic, traits> {
  let hasVerifier = 1;
  code seqSpecDecl = [{
    /// The op as the DSL describes it; emits an error and fails on a bad attribute.
    ::mlir::FailureOr<::seqjit::OpSpec> toOpSpec();
  }];
  let extraClassDeclaration = seqSpecDecl;
}

/// Ops that only programs (gradients, losses, priors) use: no DSL layer, so no OpSpec; a verifier of their own.
class Seq_ProgramOp<string mnemonic, list<Trait> traits = []> : Op<Seq_Dialect, mnemonic, traits> {
  let hasVerifier = 1;
}

#endif // SEQ_DIALECT_TD
