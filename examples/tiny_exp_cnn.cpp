// An example model file: a small CNN with an exponential first layer, loadable with seqjit forward --model.
#include "dsl/ModelFile.h"

SEQJIT_MODEL_FILE(options) {
  auto m = std::make_unique<seqjit::Model>("tiny_exp_cnn");
  auto x = m->input(options.length ? options.length : 200);
  x = conv1d(x, {.filters = 16, .width = 19, .padding = seqjit::Padding::Same, .bias = false}, "conv1");
  x = batchNorm(x, {.eps = 1e-3, .momentum = 0.01}, "bn1");
  x = activation(x, seqjit::activationByName(options.activation.empty() ? "exp" : options.activation), "act1");
  x = maxPool1d(x, 25, 0, "pool1");
  x = dropout(x, 0.1, "dropout1");
  x = dense(flatten(x, "flatten"), options.outputs ? options.outputs : 1, true, "output");
  m->setOutput(x);
  return m;
}
