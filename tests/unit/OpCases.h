// The ops under test: one small function per seq op (and per attribute variant), shared by the gradient checks
// on the interpreter (GradcheckTest) and the JIT-versus-interpreter checks of every op and its VJPs (JitOpsTest).
#pragma once

#include "compiler/Autodiff.h"
#include "compiler/GraphImport.h"
#include "compiler/SeqBuilder.h"
#include "dsl/ShapeFunctions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqjit::testing {

using mlir::Value;
using mlir::ValueRange;

/// One argument of the function under test: its shape, the interval its random values come from, and whether
/// the check differentiates it (batch-norm running statistics are state, not differentiated).
struct Argument {
  std::vector<int64_t> shape;
  double low = -1.0, high = 1.0;
  bool differentiable = true;
};

using Body = std::function<Value(SeqBuilder &, ValueRange)>;

struct Case {
  std::string name;
  std::vector<Argument> arguments;
  Body body;
};

/// A module holding @f(arguments) -> body(arguments), and @f_vjp and @f_vjp_vjp from two runs of the seq-autodiff
/// pass, in the element type `elementType`; every function has the C interface the JIT calls.
inline mlir::OwningOpRef<mlir::ModuleOp> buildCaseModule(mlir::MLIRContext &context, const Case &c,
                                                         mlir::Type elementType) {
  loadSeqjitDialects(context);
  mlir::OpBuilder b(&context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  llvm::SmallVector<mlir::Type> types;
  for (const Argument &a : c.arguments)
    types.push_back(mlir::RankedTensorType::get(a.shape, elementType));
  auto function = b.create<mlir::func::FuncOp>(b.getUnknownLoc(), "f", b.getFunctionType(types, {}));
  function->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  mlir::Block *block = function.addEntryBlock();
  b.setInsertionPointToEnd(block);
  SeqBuilder s(b, b.getUnknownLoc(), "test");
  Value result = c.body(s, block->getArguments());
  b.create<mlir::func::ReturnOp>(b.getUnknownLoc(), result);
  function.setFunctionType(b.getFunctionType(types, result.getType()));
  for (int run = 0; run < 2; ++run) {
    mlir::PassManager pm(&context);
    pm.addPass(createAutodiffPass());
    if (mlir::failed(pm.run(*module)))
      throw std::runtime_error("seq-autodiff failed on " + c.name);
  }
  if (mlir::failed(mlir::verify(*module)))
    throw std::runtime_error("the differentiated module of " + c.name + " does not verify");
  return module;
}

inline constexpr int64_t kBatch = 2, kChannels = 3, kLength = 8;
inline const std::vector<int64_t> kSequence{kBatch, kChannels, kLength};

inline mlir::RankedTensorType shaped(Value like, std::vector<int64_t> shape) { return SeqBuilder::typeLike(like, shape); }

inline Case convCase(const std::string &padding, int64_t stride, int64_t dilation, int64_t width, bool bias) {
  int64_t filters = 2;
  int64_t out = windowOutputLength(kLength, width, stride, dilation, *parsePadding(padding));
  std::vector<Argument> arguments{{kSequence}, {{filters, kChannels, width}}};
  if (bias)
    arguments.push_back({{filters}});
  return {"conv1d_" + padding + "_s" + std::to_string(stride) + "_d" + std::to_string(dilation) + "_k" +
              std::to_string(width) + (bias ? "_bias" : ""),
          arguments, [=](SeqBuilder &s, ValueRange a) {
            return s.create<seq::Conv1dOp>(shaped(a[0], {kBatch, filters, out}), a[0], a[1],
                                           bias ? a[2] : Value(), stride, dilation, padding);
          }};
}

inline Case batchNormCase(bool training, std::vector<int64_t> shape) {
  int64_t channels = shape[1];
  std::vector<Argument> arguments{{shape}, {{channels}, 0.5, 1.5}, {{channels}}, {{channels}, -1, 1, false},
                                  {{channels}, 0.5, 1.5, false}};
  return {std::string("batch_norm_") + (training ? "train" : "eval") + "_rank" + std::to_string(shape.size()),
          arguments, [=](SeqBuilder &s, ValueRange a) {
            mlir::OpBuilder &b = s.builder();
            return b.create<seq::BatchNormOp>(s.loc(), a[0].getType(), a[0], a[1], a[2], a[3], a[4],
                                              b.getF64FloatAttr(1e-3), b.getF64FloatAttr(0.1),
                                              b.getBoolAttr(training), b.getStringAttr("bn"))
                .getResult();
          }};
}

inline Case activationCase(ActivationKind kind) {
  bool positiveDomain = kind == ActivationKind::Sqrt || kind == ActivationKind::Rsqrt ||
                        kind == ActivationKind::Reciprocal || kind == ActivationKind::Log;
  // Layer activations get a scale and shift; the primitives on a positive domain keep z = x in it.
  double scale = positiveDomain ? 1.0 : 1.3, shift = positiveDomain ? 0.0 : -0.2;
  Argument x{kSequence, positiveDomain ? 0.5 : -2.0, 2.0};
  return {"activation_" + std::string(activationKindName(kind)), {x}, [=](SeqBuilder &s, ValueRange a) {
            return s.activation(a[0], kind, scale, shift, 0.7);
          }};
}

inline Case poolCase(bool isMax, int64_t size, int64_t stride) {
  int64_t out = (kLength - size) / stride + 1;
  return {std::string(isMax ? "max" : "avg") + "_pool1d_" + std::to_string(size) + "_" + std::to_string(stride),
          {{kSequence}}, [=](SeqBuilder &s, ValueRange a) {
            auto type = shaped(a[0], {kBatch, kChannels, out});
            return isMax ? s.create<seq::MaxPool1dOp>(type, a[0], size, stride)
                         : s.create<seq::AvgPool1dOp>(type, a[0], size, stride);
          }};
}

inline std::vector<Case> layerCases() {
  std::vector<Case> cases{
      convCase("valid", 1, 1, 3, true), convCase("same", 1, 1, 3, true), convCase("same", 2, 1, 3, false),
      convCase("valid", 2, 2, 3, true), convCase("same", 1, 2, 4, true),
      batchNormCase(false, kSequence), batchNormCase(true, kSequence), batchNormCase(true, {4, 3}),
      batchNormCase(false, {4, 3}),
      poolCase(true, 2, 2), poolCase(true, 3, 2), poolCase(false, 2, 2), poolCase(false, 3, 2),
  };
  for (int k = 0; k <= static_cast<int>(ActivationKind::Log); ++k)
    cases.push_back(activationCase(static_cast<ActivationKind>(k)));
  cases.push_back({"global_max_pool", {{kSequence}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::GlobalMaxPoolOp>(shaped(a[0], {kBatch, kChannels}), a[0]);
                   }});
  cases.push_back({"global_avg_pool", {{kSequence}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::GlobalAvgPoolOp>(shaped(a[0], {kBatch, kChannels}), a[0]);
                   }});
  cases.push_back({"dropout", {{kSequence}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::DropoutOp>(a[0].getType(), a[0], llvm::APFloat(0.5));
                   }});
  cases.push_back({"flatten", {{kSequence}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::FlattenOp>(shaped(a[0], {kBatch, kChannels * kLength}), a[0]);
                   }});
  cases.push_back({"dense_bias", {{{kBatch, 5}}, {{3, 5}}, {{3}}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::DenseOp>(shaped(a[0], {kBatch, 3}), a[0], a[1], a[2]);
                   }});
  cases.push_back({"dense", {{{kBatch, 5}}, {{3, 5}}}, [](SeqBuilder &s, ValueRange a) { return s.dense(a[0], a[1]); }});
  cases.push_back({"add", {{kSequence}, {kSequence}, {kSequence}},
                   [](SeqBuilder &s, ValueRange a) { return s.add({a[0], a[1], a[2]}); }});
  cases.push_back({"concat", {{kSequence}, {{kBatch, 2, kLength}}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::ConcatOp>(shaped(a[0], {kBatch, kChannels + 2, kLength}),
                                                    ValueRange{a[0], a[1]});
                   }});
  cases.push_back({"reverse_complement", {{{kBatch, 4, kLength}}}, [](SeqBuilder &s, ValueRange a) {
                     return s.create<seq::ReverseComplementOp>(a[0].getType(), a[0]);
                   }});
  return cases;
}

inline std::vector<Case> programOpCases() {
  const std::vector<int64_t> out{kBatch, 2, 6}; // conv of kSequence with 2 filters of width 3, valid
  const std::vector<int64_t> weight{2, kChannels, 3};
  return {
      {"mul", {{kSequence}, {kSequence}}, [](SeqBuilder &s, ValueRange a) { return s.mul(a[0], a[1]); }},
      {"constant",
       {{kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         auto type = s.tensorType(a[0]);
         // Two constants of one type: they must stay two (see Seq_ConstantOp).
         auto scalarType = mlir::RankedTensorType::get({}, type.getElementType());
         Value scalar = s.add({s.splat(scalarType, 1.5), s.splat(scalarType, -0.25)});
         Value channels = s.constant({kChannels}, type.getElementType(), {0.5, -1.0, 2.0});
         return s.mul(s.mul(a[0], s.broadcast(scalar, {0, 1, 2}, type)), s.broadcast(channels, {0, 2}, type));
       }},
      {"reduce_sum_0_2",
       {{kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         return s.reduceSum(a[0], {0, 2});
       }},
      {"reduce_sum_all", {{kSequence}}, [](SeqBuilder &s, ValueRange a) { return s.sumAll(a[0]); }},
      {"broadcast",
       {{{kChannels}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.broadcast(a[0], {0, 2}, shaped(a[0], kSequence));
       }},
      {"reshape",
       {{kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         return s.reshape(a[0], shaped(a[0], {kBatch * kChannels, kLength}));
       }},
      {"slice",
       {{kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::SliceOp>(shaped(a[0], {kBatch, kChannels, 5}), a[0], int64_t{2}, int64_t{2});
       }},
      {"pad",
       {{kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::PadOp>(shaped(a[0], {kBatch, kChannels + 2, kLength}), a[0], int64_t{1}, int64_t{1});
       }},
      {"log_softmax",
       {
           {{kBatch, 5}},
       },
       [](SeqBuilder &s, ValueRange a) { return s.create<seq::LogSoftmaxOp>(a[0].getType(), a[0], int64_t{1}); }},
      // Autodiff holds the stopped value constant: only the other factor is differentiated.
      {"stop_gradient",
       {{kSequence}, {kSequence, -1, 1, false}},
       [](SeqBuilder &s, ValueRange a) { return s.mul(a[0], s.create<seq::StopGradientOp>(a[1].getType(), a[1])); }},
      // x * r(x) with r piecewise constant: d/dx = r(x) almost everywhere, as finite differences see it.
      {"signed_rank",
       {{{kBatch, 7}}},
       [](SeqBuilder &s, ValueRange a) { return s.mul(a[0], s.create<seq::SignedRankOp>(a[0].getType(), a[0])); }},
      // Attribution tracks are >= 0; away from 0 the magnitudes are smooth.
      {"fourier_score",
       {{{kBatch, 12}, 0.1, 1}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::FourierScoreOp>(shaped(a[0], {kBatch}), a[0], uint64_t{1}, uint64_t{3},
                                              llvm::APFloat(0.5));
       }},
      {"fourier_score_grad",
       {{{kBatch, 12}, 0.1, 1}, {{kBatch}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::FourierScoreGradOp>(a[0].getType(), a[0], a[1], uint64_t{1}, uint64_t{3},
                                                  llvm::APFloat(0.5));
       }},
      {"bce_with_logits",
       {{{kBatch, 3}, -3, 3}, {{kBatch, 3}, 0, 1}},
       [](SeqBuilder &s, ValueRange a) { return s.create<seq::BceWithLogitsOp>(a[0].getType(), a[0], a[1]); }},
      {"conv1d_input_grad_same_s2",
       {{{kBatch, 2, 4}}, {weight}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::Conv1dInputGradOp>(shaped(a[0], kSequence), a[0], a[1], int64_t{2}, int64_t{1},
                                                 "same");
       }},
      {"conv1d_input_grad_valid",
       {{out}, {weight}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::Conv1dInputGradOp>(shaped(a[0], kSequence), a[0], a[1], int64_t{1}, int64_t{1},
                                                 "valid");
       }},
      {"conv1d_weight_grad_valid",
       {{kSequence}, {out}},
       [=](SeqBuilder &s, ValueRange a) {
         return s.create<seq::Conv1dWeightGradOp>(shaped(a[0], weight), a[0], a[1], int64_t{1}, int64_t{1},
                                                  "valid");
       }},
      {"conv1d_weight_grad_same_d2",
       {{kSequence}, {{kBatch, 2, kLength}}},
       [=](SeqBuilder &s, ValueRange a) {
         return s.create<seq::Conv1dWeightGradOp>(shaped(a[0], weight), a[0], a[1], int64_t{1}, int64_t{2},
                                                  "same");
       }},
      {"dense_input_grad",
       {{{kBatch, 3}}, {{3, 5}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::DenseInputGradOp>(shaped(a[0], {kBatch, 5}), a[0], a[1]);
       }},
      {"dense_weight_grad",
       {{{kBatch, 5}}, {{kBatch, 3}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::DenseWeightGradOp>(shaped(a[0], {3, 5}), a[0], a[1]);
       }},
      // The window maxima are piecewise constant in `input`: only the routed values are differentiated.
      {"max_pool1d_grad",
       {{kSequence, -1, 1, false}, {{kBatch, kChannels, 3}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::MaxPool1dGradOp>(a[0].getType(), a[0], a[1], int64_t{3}, int64_t{2});
       }},
      {"max_pool1d_select",
       {{kSequence, -1, 1, false}, {kSequence}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::MaxPool1dSelectOp>(shaped(a[0], {kBatch, kChannels, 3}), a[0], a[1], int64_t{3},
                                                 int64_t{2});
       }},
      {"avg_pool1d_grad",
       {{{kBatch, kChannels, 3}}},
       [](SeqBuilder &s, ValueRange a) {
         return s.create<seq::AvgPool1dGradOp>(shaped(a[0], kSequence), a[0], int64_t{3}, int64_t{2});
       }},
  };
}

} // namespace seqjit::testing
