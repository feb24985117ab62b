// The seed model zoo: the papers' architectures as DSL functions, and a registry to find them by name.
//
// Sources (read from the authors' public code, see the comment on each builder in Models.cpp):
//   Koo & Eddy 2019   github.com/p-koo/learning_sequence_motifs  code/models/cnn_*.py (deepomics dictionaries)
//   Koo & Ploenzke 2021 github.com/p-koo/exponential_activations code/model_zoo/*.py (Keras, tfomics layers)
//
// Conventions shared by every model here:
// - Batch norm sits between a bias-free convolution (or dense layer) and its activation, as in both code bases
//   (a bias before batch norm is cancelled by the mean subtraction, so the originals leave it out).
// - The model returns logits: the originals end in a sigmoid, which seqjit's losses apply themselves.
// - Layer names are stable, PyTorch-attribute-friendly and become state_dict keys ("conv1.weight",
//   "bn1.running_mean", "dense1.weight", "output.bias"); tests/python/torch_models.py defines the same
//   models in PyTorch with the same attribute names.
// - Batch norm defaults to the papers' Keras settings: eps 1e-3 and Keras momentum 0.99, which in PyTorch's
//   convention (new = (1 - m) * old + m * batch) is m = 1 - 0.99 = 0.01.
#pragma once

#include "dsl/Model.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seqjit {

/// What a zoo model may be asked to vary. Empty / zero fields take the registry entry's defaults.
struct ModelOptions {
  std::string activation{}; ///< First-layer activation by name (see activationByName); "" = entry default.
  int64_t length = 0;       ///< Sequence length; 0 = entry default.
  int64_t outputs = 0;      ///< Number of output logits; 0 = entry default.
  double bnEps = 1e-3;      ///< Keras' default epsilon, used by the papers.
  double bnMomentum = 0.01; ///< PyTorch convention; equals Keras momentum 0.99.
};

/// One architecture of the zoo.
struct ModelEntry {
  std::string name;        ///< Registry key, e.g. "cnn-deep".
  std::string description; ///< One line: paper and layer summary.
  int64_t defaultLength = 0;
  int64_t defaultOutputs = 0;
  std::string defaultActivation;
  /// Builds the model; fills empty / zero options from the defaults above. Throws seqjit::Error for an unknown
  /// activation, or for a length too short for the model's pools (the message names the layer).
  std::function<std::unique_ptr<Model>(const ModelOptions &)> build;
};

/// Every model of the zoo, in a fixed order.
const std::vector<ModelEntry> &modelZoo();

/// The entry called `name`; throws seqjit::Error listing the known names if there is none.
const ModelEntry &findModel(const std::string &name);

/// Shorthand for findModel(name).build(options).
std::unique_ptr<Model> buildZooModel(const std::string &name, const ModelOptions &options = {});

// ---- the builders (options must be complete: use the registry to get defaults filled in) ----------------------

/// Koo & Eddy 2019 CNN-N family: conv 30 x firstWidth (first-layer activation) pool firstPool; conv 128 x 5 relu
/// pool secondPool; dense 512; output. Deepomics order: conv, bn, activation, pool, dropout (0.1, 0.1, 0.5).
/// Pool windows are not padded; a pool of 1 is left out.
std::unique_ptr<Model> buildKooEddyCnn(const std::string &name, const ModelOptions &options, int64_t firstPool,
                                       int64_t secondPool, int64_t firstWidth = 19);
/// Koo & Eddy 2019 CNN-50-2: conv 30 x 19 pool 50 stride 2; conv 64 x 5 pool 50; dense 96; output.
std::unique_ptr<Model> buildKooEddyCnn50Stride2(const std::string &name, const ModelOptions &options);
/// Koo & Ploenzke 2021 CNN-2 / CNN-50 (model_zoo/cnn_model.py): conv 32 x 19 pool firstPool; conv 124 x 5
/// pool secondPool; dense 512; widths doubled for length 1000, as in the original.
std::unique_ptr<Model> buildKooPloenzkeCnn(const std::string &name, const ModelOptions &options, int64_t firstPool,
                                           int64_t secondPool);
/// Koo & Ploenzke 2021 CNN-deep: 32x19 (same); 48x7 (same) pool 4; 96x7 (valid) pool 4; 128x3 (valid) pool 3;
/// dense 512; widths doubled for length 1000, as in the original.
std::unique_ptr<Model> buildCnnDeep(const std::string &name, const ModelOptions &options);
/// Koo & Ploenzke 2021 CNN-local: 24x19 pool 50; 48x3 pool 2; dense 96.
std::unique_ptr<Model> buildCnnLocal(const std::string &name, const ModelOptions &options);
/// Koo & Ploenzke 2021 CNN-dist: 24x19; 32x7 pool 4; 48x7 (valid) pool 4; 64x3 (valid) pool 3; dense 96.
std::unique_ptr<Model> buildCnnDist(const std::string &name, const ModelOptions &options);
/// Basset as in Koo & Ploenzke 2021: 300x19 pool 3; 200x11 (valid) pool 4; 200x7 (valid) pool 4; 1000; 1000.
std::unique_ptr<Model> buildBasset(const std::string &name, const ModelOptions &options);
/// ResidualBind as in Koo & Ploenzke 2021: 24x19; residual block of two 24x5 convs; pool 10; 48x7 pool 5;
/// 64x3 (valid) pool 4; dense 96.
std::unique_ptr<Model> buildResidualBind(const std::string &name, const ModelOptions &options);

} // namespace seqjit
