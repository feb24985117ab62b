// The register-tiled contraction kernels (compiler/ContractionKernels.cpp), JIT-compiled through the CPU pipeline,
// against plain loops written out here. The shapes make every path of the blocking run: rows and columns with a
// remainder, several vectors side by side, vectors halved down to four lanes, scalar tails, parallel and reduction
// vector dimensions, a negative coefficient, a strided index; in float32 and float64.
#include "Closeness.h"
#include "compiler/GraphImport.h"
#include "compiler/Pipelines.h"
#include "runtime/Program.h"
#include "runtime/Random.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <functional>
#include <numeric>

using namespace seqjit;
using namespace seqjit::testing;

namespace {

/// A row-major array of doubles.
struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;
  explicit Array(std::vector<int64_t> s)
      : shape(std::move(s)), data(std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>())) {}
  double &operator()(std::initializer_list<int64_t> index) {
    int64_t flat = 0;
    size_t axis = 0;
    for (int64_t i : index) {
      EXPECT_TRUE(i >= 0 && i < shape[axis]) << "index " << i << " on axis " << axis;
      flat = flat * shape[axis++] + i;
    }
    return data[flat];
  }
};

struct ContractionCase {
  const char *name;
  std::string lhsMap, rhsMap, outMap; ///< affine maps over the loop dimensions
  std::string iterators;
  std::vector<int64_t> lhsShape, rhsShape, outShape;
  /// out += lhs * rhs, as loops over the same iteration space.
  std::function<void(Array &lhs, Array &rhs, Array &out)> reference;
};

void PrintTo(const ContractionCase &c, std::ostream *os) { *os << c.name; }

std::string tensorType(const std::vector<int64_t> &shape, const char *element) {
  return fmt::format("tensor<{}x{}>", fmt::join(shape, "x"), element);
}

/// What follows the contraction: nothing, or an elementwise op (the kernel's epilogue) e = max(r * s[i0] + m, -1/4) / 2
/// with s indexed by the output's first index and m of the output's shape, writing into a new tensor or over r. The
/// in-place case is written on buffers: on tensors, canonicalize would give the epilogue a new tensor to write.
/// FromZeroFill: no epilogue, and the sums start from a zero fill of a new tensor instead of from the init argument
/// (the kernels start their accumulators at zero in registers, and an edge along positions becomes an overlapping
/// block of whole vectors).
enum class Epilogue { None, InPlace, NewTensor, FromZeroFill };

std::string moduleText(const ContractionCase &c, const char *element, Epilogue epilogue) {
  std::string lhs = tensorType(c.lhsShape, element), rhs = tensorType(c.rhsShape, element),
              out = tensorType(c.outShape, element), scale = tensorType({c.outShape[0]}, element);
  std::string identity = "affine_map<(d0, d1, d2) -> (d0, d1, d2)>", first = "affine_map<(d0, d1, d2) -> (d0)>",
              parallel = R"("parallel", "parallel", "parallel")";
  if (c.outShape.size() == 2) {
    identity = "affine_map<(d0, d1) -> (d0, d1)>";
    first = "affine_map<(d0, d1) -> (d0)>";
    parallel = R"("parallel", "parallel")";
  }
  bool inPlace = epilogue == Epilogue::InPlace;
  if (inPlace) {
    lhs = "memref" + lhs.substr(6);
    rhs = "memref" + rhs.substr(6);
    out = "memref" + out.substr(6);
    scale = "memref" + scale.substr(6);
  }
  std::string contraction = fmt::format(R"(
  {8}linalg.generic {{indexing_maps = [{3}, {4}, {5}], iterator_types = [{6}]}}
      ins(%lhs, %rhs : {0}, {1}) outs(%init : {2}) {{
  ^bb0(%a: {7}, %b: {7}, %acc: {7}):
    %p = arith.mulf %a, %b : {7}
    %s = arith.addf %acc, %p : {7}
    linalg.yield %s : {7}
  }}{9})",
                                        lhs, rhs, out, c.lhsMap, c.rhsMap, c.outMap, c.iterators, element,
                                        inPlace ? "" : "%r = ", inPlace ? "" : " -> " + out);
  if (epilogue == Epilogue::None)
    return fmt::format(R"(
func.func @contract(%lhs: {0}, %rhs: {1}, %init: {2}) -> {2} attributes {{llvm.emit_c_interface}} {{{3}
  return %r : {2}
}})",
                       lhs, rhs, out, contraction);
  if (epilogue == Epilogue::FromZeroFill)
    return fmt::format(R"(
func.func @contract(%lhs: {0}, %rhs: {1}, %unused: {2}) -> {2} attributes {{llvm.emit_c_interface}} {{
  %zero = arith.constant 0.0 : {3}
  %empty = tensor.empty() : {2}
  %init = linalg.fill ins(%zero : {3}) outs(%empty : {2}) -> {2}{4}
  return %r : {2}
}})",
                       lhs, rhs, out, element, contraction);
  return fmt::format(R"(
func.func @contract(%lhs: {0}, %rhs: {1}, %init: {2}, %scale: {3}, %m: {2}) -> ({2}{4})
    attributes {{llvm.emit_c_interface}} {{
  %floor = arith.constant -2.5e-01 : {5}{6}{7}
  {13}linalg.generic {{indexing_maps = [{8}, {9}, {8}, {8}], iterator_types = [{10}]}}
      ins({15}, %scale, %m : {2}, {3}, {2}) outs({11} : {2}) {{
  ^bb0(%v: {5}, %sv: {5}, %mv: {5}, %unused: {5}):
    %half = arith.constant 5.0e-01 : {5}
    %a = arith.mulf %v, %sv : {5}
    %b = arith.addf %a, %mv : {5}
    %c = arith.maximumf %b, %floor : {5}
    %d = arith.mulf %c, %half : {5}
    linalg.yield %d : {5}
  }}{14}
  return {12} : {2}{4}
}})",
                     lhs, rhs, out, scale, inPlace ? "" : ", " + out, element, contraction,
                     inPlace ? "" : fmt::format("\n  %fresh = tensor.empty() : {}", out), identity, first, parallel,
                     inPlace ? "%init" : "%fresh", inPlace ? "%init" : "%r, %e",
                     inPlace ? "" : "%e = ", inPlace ? "" : " -> " + out, inPlace ? "%init" : "%r");
}

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context, const std::string &text) {
  loadSeqjitDialects(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  EXPECT_TRUE(module) << text;
  return module;
}

/// What the kernel pass (AVX-512's blocking) leaves of `text` after bufferization: the linalg.generic ops it did not
/// take over, and the FMAs and horizontal sums of its kernels.
struct KernelOps {
  int generics = 0, fmas = 0, reductions = 0;
};

KernelOps afterKernels(const std::string &text) {
  mlir::MLIRContext context;
  auto module = parse(context, text);
  KernelOps ops;
  bool lowered =
      module && mlir::succeeded(runPipeline(*module, "one-shot-bufferize{bufferize-function-boundaries "
                                                     "function-boundary-type-conversion=identity-layout-map}, "
                                                     "func.func(seqjit-contraction-kernels{vector-bits=512 "
                                                     "registers=32})"));
  EXPECT_TRUE(lowered);
  if (lowered)
    module->walk([&](mlir::Operation *op) {
      ops.generics += mlir::isa<mlir::linalg::GenericOp>(op);
      ops.fmas += mlir::isa<mlir::vector::FMAOp>(op);
      ops.reductions += mlir::isa<mlir::vector::ReductionOp>(op);
    });
  return ops;
}

/// Runs the JIT on random operands and compares with the reference loops.
template <typename T>
void checkCase(const ContractionCase &c, const char *element, Epilogue epilogue, double tolerance) {
  SCOPED_TRACE(std::string(c.name) + " " + element);
  std::string text = moduleText(c, element, epilogue);
  // The kernel pass must take the contraction (and the epilogue) over, or this test checks nothing new.
  KernelOps kernels = afterKernels(text);
  EXPECT_EQ(kernels.generics, 0) << "not fused";
  EXPECT_GT(kernels.fmas, 0);
  auto compiled = Program::compile([&](mlir::MLIRContext &context) { return parse(context, text); }, c.name,
                                   sizeof(T) == 8, {"contract"});
  Random random(7, 0);
  Array lhs(c.lhsShape), rhs(c.rhsShape), out(c.outShape), scale({c.outShape[0]}), m(c.outShape);
  for (Array *array : {&lhs, &rhs, &out, &scale, &m})
    for (double &v : array->data)
      v = 2 * random.uniformDouble() - 1;
  auto narrow = [](const Array &a) { return std::vector<T>(a.data.begin(), a.data.end()); };
  std::vector<T> lhsData = narrow(lhs), rhsData = narrow(rhs), initData = narrow(out), scaleData = narrow(scale),
                 mData = narrow(m), actual(out.data.size()), actualEpilogue(out.data.size());
  std::vector<BufferView> arguments{
      {lhsData.data(), c.lhsShape}, {rhsData.data(), c.rhsShape}, {initData.data(), c.outShape}};
  const bool hasEpilogue = epilogue != Epilogue::None && epilogue != Epilogue::FromZeroFill;
  if (hasEpilogue)
    arguments.insert(arguments.end(), {{scaleData.data(), {c.outShape[0]}}, {mData.data(), c.outShape}});
  std::vector<BufferView> results{{actual.data(), c.outShape}};
  if (epilogue == Epilogue::NewTensor)
    results.push_back({actualEpilogue.data(), c.outShape});
  compiled.call("contract", arguments, results);
  if (epilogue == Epilogue::FromZeroFill)
    std::fill(out.data.begin(), out.data.end(), 0.0);
  c.reference(lhs, rhs, out);
  if (epilogue != Epilogue::InPlace)
    EXPECT_LT(relativeError(actual, out.data), tolerance);
  if (!hasEpilogue)
    return;
  const int64_t perFirst = static_cast<int64_t>(out.data.size()) / c.outShape[0];
  for (size_t i = 0; i < out.data.size(); ++i)
    out.data[i] = std::max(out.data[i] * scale.data[i / perFirst] + m.data[i], -0.25) * 0.5;
  EXPECT_LT(relativeError(epilogue == Epilogue::InPlace ? actual : actualEpilogue, out.data), tolerance);
}

/// conv1d: out[n, f, l] += x[n, c, l * stride + k] * w[f, c, k], batch 2, 3 channels.
ContractionCase conv1dCase(const char *name, int64_t filters, int64_t width, int64_t length, int64_t stride) {
  return {name,
          fmt::format("affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 * {} + d3)>", stride),
          "affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>",
          "affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>",
          R"("parallel", "parallel", "reduction", "reduction", "parallel")",
          {2, 3, stride * (length - 1) + width},
          {filters, 3, width},
          {2, filters, length},
          [=](Array &x, Array &w, Array &out) {
            for (int64_t n = 0; n < 2; ++n)
              for (int64_t f = 0; f < filters; ++f)
                for (int64_t l = 0; l < length; ++l)
                  for (int64_t c = 0; c < 3; ++c)
                    for (int64_t k = 0; k < width; ++k)
                      out({n, f, l}) += x({n, c, l * stride + k}) * w({f, c, k});
          }};
}

std::vector<ContractionCase> cases() {
  std::vector<ContractionCase> all;
  // conv1d: vector along l: 45 = 2 x 16 + 8 + 4 + 1 (the last a 4-lane vector with one lane active), or from a zero
  // fill, an overlapping block past the whole ones; rows f: 8 + 3.
  all.push_back(conv1dCase("conv1d", 11, 5, 45, 1));
  // conv1d's input gradient: dx[n, c, i] += dy[n, f, i - k + K - 1] * w[f, c, k] (a negative coefficient); from a
  // zero fill, past the whole blocks along i (37 = 2 x 16 + 5 on AVX2) one overlapping block of whole vectors.
  const int64_t gradC = 6, gradF = 5, gradK = 4, gradI = 37;
  all.push_back({"conv1d input gradient",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 - d3 + 3)>",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d2, d1, d3)>",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>",
                 R"("parallel", "parallel", "reduction", "reduction", "parallel")",
                 {2, gradF, gradI + gradK - 1},
                 {gradF, gradC, gradK},
                 {2, gradC, gradI},
                 [=](Array &dy, Array &w, Array &dx) {
                   for (int64_t n = 0; n < 2; ++n)
                     for (int64_t c = 0; c < gradC; ++c)
                       for (int64_t i = 0; i < gradI; ++i)
                         for (int64_t f = 0; f < gradF; ++f)
                           for (int64_t k = 0; k < gradK; ++k)
                             dx({n, c, i}) += dy({n, f, i - k + gradK - 1}) * w({f, c, k});
                 }});
  // conv1d's weight gradient: dw[f, c, k] += x[n, c, o + k] * dy[n, f, o]. Vector along the reduction o:
  // 37 = 2 x 16 + 4 + 1 (masked: its inactive lanes add zero products), partial sums added up at the end; rows and
  // columns from f, c and k.
  const int64_t wF = 9, wC = 5, wK = 7, wO = 37;
  all.push_back({"conv1d weight gradient",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4 + d2)>",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d3, d0, d4)>",
                 "affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>",
                 R"("parallel", "parallel", "parallel", "reduction", "reduction")",
                 {3, wC, wO + wK - 1},
                 {3, wF, wO},
                 {wF, wC, wK},
                 [=](Array &x, Array &dy, Array &dw) {
                   for (int64_t f = 0; f < wF; ++f)
                     for (int64_t c = 0; c < wC; ++c)
                       for (int64_t k = 0; k < wK; ++k)
                         for (int64_t n = 0; n < 3; ++n)
                           for (int64_t o = 0; o < wO; ++o)
                             dw({f, c, k}) += x({n, c, o + k}) * dy({n, f, o});
                 }});
  // dense: out[n, o] += x[n, i] * w[o, i]: a dot product along i (21 = 16 + 4 + 1).
  all.push_back({"dense",
                 "affine_map<(d0, d1, d2) -> (d0, d2)>",
                 "affine_map<(d0, d1, d2) -> (d1, d2)>",
                 "affine_map<(d0, d1, d2) -> (d0, d1)>",
                 R"("parallel", "parallel", "reduction")",
                 {5, 21},
                 {7, 21},
                 {5, 7},
                 [](Array &x, Array &w, Array &out) {
                   for (int64_t n = 0; n < 5; ++n)
                     for (int64_t o = 0; o < 7; ++o)
                       for (int64_t i = 0; i < 21; ++i)
                         out({n, o}) += x({n, i}) * w({o, i});
                 }});
  // A stride-2 conv1d: l moves x by two, so the vector runs along the reduction k instead (9 = 8 + 1).
  all.push_back(conv1dCase("strided conv1d", 6, 9, 20, 2));
  return all;
}

class ContractionKernels : public ::testing::TestWithParam<ContractionCase> {};

TEST_P(ContractionKernels, EqualPlainLoopsInFloat32) { checkCase<float>(GetParam(), "f32", Epilogue::None, 1e-5); }
TEST_P(ContractionKernels, EqualPlainLoopsInFloat64) { checkCase<double>(GetParam(), "f64", Epilogue::None, 1e-13); }
TEST_P(ContractionKernels, FromAZeroFillEqualPlainLoops) {
  checkCase<float>(GetParam(), "f32", Epilogue::FromZeroFill, 1e-5);
}
TEST_P(ContractionKernels, WithAnInPlaceEpilogueEqualPlainLoops) {
  checkCase<float>(GetParam(), "f32", Epilogue::InPlace, 1e-5);
  checkCase<double>(GetParam(), "f64", Epilogue::InPlace, 1e-13);
}
TEST_P(ContractionKernels, WithAnEpilogueIntoANewBufferEqualPlainLoops) {
  checkCase<float>(GetParam(), "f32", Epilogue::NewTensor, 1e-5);
  checkCase<double>(GetParam(), "f64", Epilogue::NewTensor, 1e-13);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ContractionKernels, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ContractionCase> &info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), ' ', '_');
                           return name;
                         });

/// Any elementwise term, not only a product: batch norm's statistics sum float32 terms in float64. Here
/// out[c] += extf((x - y)^2) over n and l, the vector along the reduction l (37 = 32 + 4 + 1 in 8-lane float64
/// vectors), one accumulator per channel: no input is shared between channels, the rows only overlap the sums.
TEST(ContractionKernels, ReductionOfAWidenedTermEqualsPlainLoops) {
  const int64_t batch = 3, channels = 5, length = 37;
  const std::string text = R"(
func.func @contract(%x: tensor<3x5x37xf32>, %y: tensor<3x5x37xf32>, %init: tensor<5xf64>) -> tensor<5xf64>
    attributes {llvm.emit_c_interface} {
  %r = linalg.generic {indexing_maps = [affine_map<(n, c, l) -> (n, c, l)>, affine_map<(n, c, l) -> (n, c, l)>,
                                        affine_map<(n, c, l) -> (c)>],
                       iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x, %y : tensor<3x5x37xf32>, tensor<3x5x37xf32>) outs(%init : tensor<5xf64>) {
  ^bb0(%a: f32, %b: f32, %acc: f64):
    %d = arith.subf %a, %b : f32
    %square = arith.mulf %d, %d : f32
    %wide = arith.extf %square : f32 to f64
    %s = arith.addf %acc, %wide : f64
    linalg.yield %s : f64
  } -> tensor<5xf64>
  return %r : tensor<5xf64>
})";
  KernelOps kernels = afterKernels(text);
  EXPECT_EQ(kernels.generics, 0);
  EXPECT_EQ(kernels.reductions, 2 * channels) << "8 and 4 lanes, one sum per channel each";
  auto compiled = Program::compile([&](mlir::MLIRContext &context) { return parse(context, text); }, "statistics", true,
                                   {"contract"});
  Random random(11, 0);
  std::vector<float> x(batch * channels * length), y(x.size());
  std::vector<double> init(channels), actual(channels);
  for (float &v : x)
    v = static_cast<float>(2 * random.uniformDouble() - 1);
  for (float &v : y)
    v = static_cast<float>(2 * random.uniformDouble() - 1);
  for (double &v : init)
    v = random.uniformDouble();
  std::vector<double> expected = init; // before the call: the compiled function may write over its init argument
  compiled.call(
      "contract",
      {{x.data(), {batch, channels, length}}, {y.data(), {batch, channels, length}}, {init.data(), {channels}}},
      {BufferView{actual.data(), {channels}}});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t l = 0; l < length; ++l) {
        size_t i = (n * channels + c) * length + l;
        float d = x[i] - y[i];
        expected[c] += static_cast<double>(d * d);
      }
  EXPECT_LT(relativeError(actual, expected), 1e-14);
}

} // namespace
