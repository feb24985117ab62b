// Tests of the DSL front end: shape functions against PyTorch's documented formulas, parameter specs, layer
// naming, and the one clear error each modelling mistake must produce (naming the model, layer and file:line).
#include "dsl/Error.h"
#include "dsl/Model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <string>

using namespace seqjit;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

/// PyTorch's Conv1d / MaxPool1d output length (torch.nn.Conv1d docs), written out independently of
/// windowOutputLength: floor((L + 2p - d(k - 1) - 1) / s + 1). Non-positive means "no output".
int64_t torchOutputLength(int64_t length, int64_t kernel, int64_t stride, int64_t dilation, int64_t padding = 0) {
  double value = std::floor(static_cast<double>(length + 2 * padding - dilation * (kernel - 1) - 1) /
                                static_cast<double>(stride) +
                            1.0);
  return static_cast<int64_t>(value);
}

/// The message of the seqjit::Error that `action` throws; fails the test if it throws nothing or something else.
std::string errorOf(const std::function<void()> &action) {
  try {
    action();
  } catch (const Error &e) {
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected seqjit::Error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected seqjit::Error, nothing was thrown";
  return {};
}

/// "file:line" as std::source_location reports it for a call on `line` of this file.
std::string here(int line) { return fmt::format("{}:{}", __FILE__, line); }

} // namespace

// ---- shape functions -----------------------------------------------------------------------------------------

TEST(DslShapes, ValidConvolutionMatchesPyTorchFormulaOverSweep) {
  int checked = 0, refused = 0;
  for (int64_t length = 1; length <= 40; ++length)
    for (int64_t kernel = 1; kernel <= 9; ++kernel)
      for (int64_t stride = 1; stride <= 4; ++stride)
        for (int64_t dilation = 1; dilation <= 3; ++dilation) {
          int64_t expected = torchOutputLength(length, kernel, stride, dilation);
          SCOPED_TRACE(fmt::format("L={} k={} s={} d={}", length, kernel, stride, dilation));
          Model m("sweep");
          auto x = m.input(length, 3);
          Conv1dAttrs attrs{.filters = 5, .width = kernel, .stride = stride, .dilation = dilation,
                            .padding = Padding::Valid};
          if (expected >= 1) {
            EXPECT_EQ(windowOutputLength(length, kernel, stride, dilation, Padding::Valid), expected);
            auto y = conv1d(x, attrs);
            EXPECT_EQ(y.shape(), (Shape{5, expected}));
            ++checked;
          } else {
            std::string message = errorOf([&] { conv1d(x, attrs, "too_wide"); });
            EXPECT_THAT(message, AllOf(HasSubstr("too_wide"), HasSubstr("shorter than the receptive field"),
                                       HasSubstr(std::to_string(dilation * (kernel - 1) + 1))));
            ++refused;
          }
        }
  // The sweep must exercise both outcomes, or it proves nothing about the boundary.
  EXPECT_GT(checked, 1000);
  EXPECT_GT(refused, 50);
}

TEST(DslShapes, MaxPoolMatchesPyTorchFormulaOverSweep) {
  for (int64_t length = 1; length <= 60; ++length)
    for (int64_t size = 1; size <= 12; ++size)
      for (int64_t stride = 0; stride <= 5; ++stride) {
        int64_t effectiveStride = stride == 0 ? size : stride; // PyTorch: stride defaults to kernel_size.
        int64_t expected = torchOutputLength(length, size, effectiveStride, 1);
        SCOPED_TRACE(fmt::format("L={} size={} stride={}", length, size, stride));
        Model m("pools");
        auto x = m.input(length);
        if (expected >= 1) {
          EXPECT_EQ(maxPool1d(x, size, stride).shape(), (Shape{4, expected}));
          EXPECT_EQ(avgPool1d(x, size, stride).shape(), (Shape{4, expected}));
        } else {
          EXPECT_THAT(errorOf([&] { maxPool1d(x, size, stride); }), HasSubstr("shorter than the pool size"));
        }
      }
}

TEST(DslShapes, SamePaddingGivesCeilLengthAndExtraPadOnTheRight) {
  for (int64_t length = 1; length <= 50; ++length)
    for (int64_t kernel = 1; kernel <= 10; ++kernel)
      for (int64_t stride = 1; stride <= 4; ++stride)
        for (int64_t dilation = 1; dilation <= 3; ++dilation) {
          SCOPED_TRACE(fmt::format("L={} k={} s={} d={}", length, kernel, stride, dilation));
          int64_t outLength = (length + stride - 1) / stride; // ceil(L / s)
          // TensorFlow's documented rule: pad so that the last window starts at (out - 1) * s.
          int64_t total = std::max<int64_t>(0, (outLength - 1) * stride + dilation * (kernel - 1) + 1 - length);
          int64_t left = total / 2;
          EXPECT_EQ(windowOutputLength(length, kernel, stride, dilation, Padding::Same), outLength);
          EXPECT_EQ(samePaddingTotal(length, kernel, stride, dilation), total);
          EXPECT_EQ(samePaddingLeft(length, kernel, stride, dilation), left);
          EXPECT_GE(total - left, left); // The extra pad goes on the right.
          // With that padding, PyTorch's formula for the padded input gives the same ceil(L / s).
          EXPECT_EQ(torchOutputLength(length + total, kernel, stride, dilation), outLength);
          if (stride == 1) { // PyTorch padding='same' (stride 1 only): total d(k - 1), left half rounded down.
            EXPECT_EQ(samePaddingTotal(length, kernel, 1, dilation), dilation * (kernel - 1));
          }
          Model m("same");
          auto y = conv1d(m.input(length), {.filters = 2, .width = kernel, .stride = stride, .dilation = dilation,
                                            .padding = Padding::Same});
          EXPECT_EQ(y.shape(), (Shape{2, outLength}));
        }
}

TEST(DslShapes, SamePaddingHandValues) {
  // L = 10, k = 4: 3 pads, 1 left and 2 right (torch.nn.Conv1d(padding='same') pads (1, 2)).
  EXPECT_EQ(samePaddingTotal(10, 4, 1, 1), 3);
  EXPECT_EQ(samePaddingLeft(10, 4, 1, 1), 1);
  // L = 200, k = 19: 9 each side.
  EXPECT_EQ(samePaddingTotal(200, 19, 1, 1), 18);
  EXPECT_EQ(samePaddingLeft(200, 19, 1, 1), 9);
  // L = 7, k = 3, s = 2: out 4, needs (4 - 1) * 2 + 3 - 7 = 2: 1 left, 1 right.
  EXPECT_EQ(samePaddingTotal(7, 3, 2, 1), 2);
  EXPECT_EQ(samePaddingLeft(7, 3, 2, 1), 1);
  // L = 8, k = 3, s = 2: out 4, needs 6 + 3 - 8 = 1: 0 left, 1 right.
  EXPECT_EQ(samePaddingTotal(8, 3, 2, 1), 1);
  EXPECT_EQ(samePaddingLeft(8, 3, 2, 1), 0);
}

TEST(DslShapes, LayerShapesThroughASmallModel) {
  Model m("small");
  auto x = m.input(100);
  EXPECT_EQ(x.shape(), (Shape{4, 100}));
  auto c = conv1d(x, {.filters = 8, .width = 5}); // valid: 96
  EXPECT_EQ(c.shape(), (Shape{8, 96}));
  auto p = maxPool1d(relu(c), 4);
  EXPECT_EQ(p.shape(), (Shape{8, 24}));
  auto r = reverseComplement(x);
  EXPECT_EQ(r.shape(), (Shape{4, 100}));
  auto g = globalMaxPool(p);
  EXPECT_EQ(g.shape(), (Shape{8}));
  auto both = concat({c, conv1d(x, {.filters = 3, .width = 5})});
  EXPECT_EQ(both.shape(), (Shape{11, 96}));
  auto f = flatten(p);
  EXPECT_EQ(f.shape(), (Shape{8 * 24}));
  auto d = dense(dropout(f, 0.5), 7);
  EXPECT_EQ(d.shape(), (Shape{7}));
  auto s = add({d, dense(f, 7)});
  EXPECT_EQ(s.shape(), (Shape{7}));
  EXPECT_EQ(batchNorm(d).shape(), (Shape{7})); // batch norm on features, as after a dense layer
}

// ---- parameter specs -----------------------------------------------------------------------------------------

TEST(DslParameters, ConvDenseAndBatchNormSpecs) {
  Model m("params");
  auto x = m.input(50, 4);
  auto c = conv1d(x, {.filters = 6, .width = 7}, "conv");
  auto cNoBias = conv1d(c, {.filters = 3, .width = 2, .bias = false}, "conv_nobias");
  auto bn = batchNorm(cNoBias, {}, "bn");
  auto d = dense(flatten(bn), 5, true, "dense");
  auto dNoBias = dense(d, 2, false, "dense_nobias");
  m.setOutput(dNoBias);

  const Graph &g = m.graph();
  const Node &conv = g.nodes.at(c.node());
  ASSERT_EQ(conv.parameters.size(), 2u);
  EXPECT_EQ(conv.parameters[0].suffix, "weight");
  EXPECT_EQ(conv.parameters[0].shape, (Shape{6, 4, 7})); // [F, C, K]
  EXPECT_EQ(conv.parameters[0].fanIn, 4 * 7);
  EXPECT_EQ(conv.parameters[0].fanOut, 6 * 7);
  EXPECT_EQ(conv.parameters[1].suffix, "bias");
  EXPECT_EQ(conv.parameters[1].shape, (Shape{6}));
  EXPECT_EQ(Graph::parameterName(conv, conv.parameters[0]), "conv.weight");

  const Node &convNoBias = g.nodes.at(cNoBias.node());
  ASSERT_EQ(convNoBias.parameters.size(), 1u);
  EXPECT_EQ(convNoBias.parameters[0].shape, (Shape{3, 6, 2}));

  const Node &norm = g.nodes.at(bn.node());
  ASSERT_EQ(norm.parameters.size(), 4u);
  const char *suffixes[] = {"weight", "bias", "running_mean", "running_var"};
  const bool trainable[] = {true, true, false, false};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(norm.parameters[i].suffix, suffixes[i]);
    EXPECT_EQ(norm.parameters[i].shape, (Shape{3}));
    EXPECT_EQ(norm.parameters[i].trainable, trainable[i]) << suffixes[i];
  }

  // conv_nobias is valid: 50 - 7 + 1 = 44, then 44 - 2 + 1 = 43; flatten 3 * 43 = 129.
  const Node &full = g.nodes.at(d.node());
  ASSERT_EQ(full.parameters.size(), 2u);
  EXPECT_EQ(full.parameters[0].shape, (Shape{5, 129})); // [U, In]
  EXPECT_EQ(full.parameters[1].shape, (Shape{5}));
  const Node &noBias = g.nodes.at(dNoBias.node());
  ASSERT_EQ(noBias.parameters.size(), 1u);
  EXPECT_EQ(noBias.parameters[0].shape, (Shape{2, 5}));

  // Trainable scalars, counted by hand: conv 6*4*7 + 6, conv_nobias 3*6*2, bn 3 + 3, dense 5*129 + 5, 2*5.
  EXPECT_EQ(g.trainableParameterCount(), (6 * 4 * 7 + 6) + (3 * 6 * 2) + (3 + 3) + (5 * 129 + 5) + (2 * 5));
}

TEST(DslParameters, ParameterFreeLayersOwnNothing) {
  Model m("free");
  auto x = m.input(20);
  for (Tensor t : {relu(x), maxPool1d(x, 2), dropout(x, 0.2), flatten(x), reverseComplement(x), globalAvgPool(x)})
    EXPECT_TRUE(m.node(t.node()).parameters.empty()) << m.node(t.node()).name;
}

// ---- naming --------------------------------------------------------------------------------------------------

TEST(DslNaming, AutomaticNamesCountPerOpKind) {
  Model m("names");
  auto x = m.input(100);
  auto a = conv1d(x, {.filters = 4, .width = 3});
  auto b = conv1d(a, {.filters = 4, .width = 3});
  auto n = batchNorm(b);
  auto r = relu(n);
  auto p = maxPool1d(r, 2);
  EXPECT_EQ(m.node(x.node()).name, "input");
  EXPECT_EQ(m.node(a.node()).name, "conv1d_0");
  EXPECT_EQ(m.node(b.node()).name, "conv1d_1");
  EXPECT_EQ(m.node(n.node()).name, "batch_norm_0");
  EXPECT_EQ(m.node(r.node()).name, "activation_0");
  EXPECT_EQ(m.node(p.node()).name, "max_pool1d_0");
  auto named = conv1d(p, {.filters = 4, .width = 3}, "motifs");
  EXPECT_EQ(m.node(named.node()).name, "motifs");
}

TEST(DslNaming, NodesRecordTheirSourceLocation) {
  Model m("where");
  auto x = m.input(30);
  int line = __LINE__ + 1;
  auto c = conv1d(x, {.filters = 2, .width = 3});
  EXPECT_EQ(m.node(c.node()).sourceLocation, here(line));
}

// ---- errors: each names the model, the layer, this file:line, and what was expected -------------------------

TEST(DslErrors, DenseOnSequenceWithoutFlatten) {
  Model m("no_flatten");
  auto x = conv1d(m.input(200), {.filters = 8, .width = 5}, "conv1");
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { dense(x, 10, true, "head"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'no_flatten'"), HasSubstr("'head'"), HasSubstr("dense"),
                             HasSubstr("expected a (features) input"), HasSubstr("(8, 196)"),
                             HasSubstr("flatten"), HasSubstr(here(line))));
}

TEST(DslErrors, PoolLargerThanInput) {
  Model m("big_pool");
  auto x = m.input(10);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { maxPool1d(x, 20, 0, "pool1"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'big_pool'"), HasSubstr("'pool1'"), HasSubstr("max_pool1d"),
                             HasSubstr("length 10"), HasSubstr("pool size 20"), HasSubstr(here(line))));
}

TEST(DslErrors, AddOfMismatchedShapes) {
  Model m("residual");
  auto x = m.input(50);
  auto a = conv1d(x, {.filters = 8, .width = 5}, "branch_a");                            // (8, 46)
  auto b = conv1d(x, {.filters = 8, .width = 5, .padding = Padding::Same}, "branch_b"); // (8, 50)
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { add({a, b}, "skip"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'residual'"), HasSubstr("'skip'"), HasSubstr("equal shapes"),
                             HasSubstr("(8, 46)"), HasSubstr("(8, 50)"), HasSubstr(here(line))));
}

TEST(DslErrors, ConcatMismatchedLengths) {
  Model m("towers");
  auto x = m.input(50);
  auto a = conv1d(x, {.filters = 8, .width = 5}, "tower_a"); // (8, 46)
  auto b = conv1d(x, {.filters = 4, .width = 3}, "tower_b"); // (4, 48)
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { concat({a, b}, "join"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'towers'"), HasSubstr("'join'"), HasSubstr("concat"),
                             HasSubstr("every dimension but channels"), HasSubstr("(8, 46)"), HasSubstr("(4, 48)"),
                             HasSubstr(here(line))));
}

TEST(DslErrors, NonPositiveFiltersAndWidth) {
  Model m("bad_conv");
  auto x = m.input(50);
  int line = __LINE__ + 1;
  std::string negative = errorOf([&] { conv1d(x, {.filters = -3, .width = 5}, "conv_neg"); });
  EXPECT_THAT(negative, AllOf(HasSubstr("'bad_conv'"), HasSubstr("'conv_neg'"), HasSubstr("filters must be positive"),
                              HasSubstr("-3"), HasSubstr(here(line))));
  line = __LINE__ + 1;
  std::string zero = errorOf([&] { conv1d(x, {.filters = 0, .width = 5}, "conv_zero"); });
  EXPECT_THAT(zero, AllOf(HasSubstr("'conv_zero'"), HasSubstr("filters must be positive, got 0"),
                          HasSubstr(here(line))));
  line = __LINE__ + 1;
  std::string width = errorOf([&] { conv1d(x, {.filters = 4, .width = 0}, "conv_width"); });
  EXPECT_THAT(width, AllOf(HasSubstr("'bad_conv'"), HasSubstr("'conv_width'"), HasSubstr("width must be positive"),
                           HasSubstr("got 0"), HasSubstr(here(line))));
  std::string units = errorOf([&] { dense(flatten(x), 0, true, "head"); });
  EXPECT_THAT(units, AllOf(HasSubstr("'head'"), HasSubstr("units must be positive, got 0")));
}

TEST(DslErrors, DropoutRateOne) {
  Model m("dropper");
  auto x = m.input(50);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { dropout(x, 1.0, "drop1"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'dropper'"), HasSubstr("'drop1'"), HasSubstr("[0, 1)"), HasSubstr("got 1"),
                             HasSubstr(here(line))));
  EXPECT_THAT(errorOf([&] { dropout(x, -0.1, "drop2"); }), AllOf(HasSubstr("'drop2'"), HasSubstr("-0.1")));
  EXPECT_NO_THROW(dropout(x, 0.0, "drop3"));
}

TEST(DslErrors, BatchNormMomentumTwo) {
  Model m("norms");
  auto x = m.input(50);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { batchNorm(x, {.momentum = 2}, "bn1"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'norms'"), HasSubstr("'bn1'"), HasSubstr("momentum"), HasSubstr("[0, 1]"),
                             HasSubstr("got 2"), HasSubstr(here(line))));
  EXPECT_THAT(errorOf([&] { batchNorm(x, {.eps = 0}, "bn2"); }), AllOf(HasSubstr("'bn2'"), HasSubstr("eps")));
}

TEST(DslErrors, DuplicateLayerName) {
  Model m("dupes");
  auto x = m.input(50);
  auto a = conv1d(x, {.filters = 4, .width = 3}, "conv");
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { conv1d(a, {.filters = 4, .width = 3}, "conv"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'dupes'"), HasSubstr("'conv'"), HasSubstr("used twice"), HasSubstr(here(line))));
}

TEST(DslErrors, InputCalledTwice) {
  Model m("twice");
  m.input(50);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { m.input(60); });
  EXPECT_THAT(message, AllOf(HasSubstr("'twice'"), HasSubstr("input()"), HasSubstr("once"), HasSubstr(here(line))));
}

TEST(DslErrors, LayerBeforeInput) {
  Model m("headless");
  Tensor dangling(&m, 0); // A handle on a node that does not exist yet: no input() was called.
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { conv1d(dangling, {.filters = 4, .width = 3}); });
  EXPECT_THAT(message,
              AllOf(HasSubstr("'headless'"), HasSubstr("call input() before"), HasSubstr("conv1d"), HasSubstr(here(line))));
}

TEST(DslErrors, TensorFromAnotherModel) {
  Model first("first");
  Model second("second");
  auto a = first.input(50);
  auto b = second.input(50);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { add({a, b}, "mix"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'first'"), HasSubstr("'mix'"), HasSubstr("another model"), HasSubstr(here(line))));
  EXPECT_THAT(errorOf([&] { second.setOutput(a); }), AllOf(HasSubstr("'second'"), HasSubstr("another model")));
}

TEST(DslErrors, GraphWithoutOutput) {
  Model m("open_ended");
  conv1d(m.input(50), {.filters = 4, .width = 3});
  EXPECT_THAT(errorOf([&] { m.graph(); }), AllOf(HasSubstr("'open_ended'"), HasSubstr("setOutput")));
}

TEST(DslErrors, UnknownActivationName) {
  std::string message = errorOf([] { activationByName("swish"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'swish'"), HasSubstr("expected one of"), HasSubstr("relu"), HasSubstr("exp"),
                             HasSubstr("log_relu")));
  EXPECT_EQ(activationByName("exp").kind, ActivationKind::Exp);
  EXPECT_EQ(activationByName("log_relu").kind, ActivationKind::LogRelu);
}

TEST(DslErrors, ConvolutionLongerThanInput) {
  Model m("short_input");
  auto x = m.input(10);
  int line = __LINE__ + 1;
  std::string message = errorOf([&] { conv1d(x, {.filters = 4, .width = 19}, "conv1"); });
  EXPECT_THAT(message, AllOf(HasSubstr("'short_input'"), HasSubstr("'conv1'"), HasSubstr("length 10"),
                             HasSubstr("receptive field 19"), HasSubstr(here(line))));
}

TEST(DslErrors, FailedLayerLeavesModelUsable) {
  // A rejected layer must not be recorded: the author can fix the call and go on.
  Model m("recover");
  auto x = m.input(50);
  errorOf([&] { conv1d(x, {.filters = 0, .width = 3}, "conv1"); });
  auto c = conv1d(x, {.filters = 4, .width = 3}, "conv1");
  m.setOutput(c);
  EXPECT_EQ(m.graph().nodes.size(), 2u);
}
