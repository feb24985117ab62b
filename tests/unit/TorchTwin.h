// A zoo model and its PyTorch twin on the same weights and inputs, for the tests that compare with PyTorch.
#pragma once

#include "PythonSupport.h"

#include "runtime/Npy.h"
#include "runtime/Parameters.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <memory>
#include <string>

namespace seqjit::testing {

/// A zoo model's torch twin exported to `scratch` (weights.npz, input.npy) with 4 examples, and labels.npy:
/// random 0/1 labels with example 0 positive, so that no prior is empty.
struct TwinData {
  std::unique_ptr<Model> model;
  Parameters parameters;
  HostArray<double> input, labels;
};

inline TwinData exportTwin(const std::string &name, const ScratchDirectory &scratch) {
  const ModelEntry &entry = findModel(name);
  const int64_t examples = 4;
  runPythonScript("torch_models.py",
                  fmt::format("export --model {} --length {} --outputs {} --activation exp --batch {} "
                              "--seed 5 --out '{}'",
                              name, entry.defaultLength, entry.defaultOutputs, examples, scratch.path().string()));
  HostArray<double> labels({examples, entry.defaultOutputs});
  Random random(9, 0);
  for (double &v : labels.data)
    v = random.uniform() < 0.3f ? 1.0 : 0.0;
  labels.data[0] = 1.0;
  writeNpy(scratch.file("labels.npy"), labels);
  auto model = buildZooModel(name, {.activation = "exp"});
  if (::testing::Test::HasFailure())
    return {std::move(model), Parameters(), {}, labels};
  Parameters parameters = Parameters::loadNpz(model->graph(), scratch.file("weights.npz"));
  HostArray<double> input = readNpy<double>(scratch.file("input.npy"));
  return {std::move(model), std::move(parameters), std::move(input), std::move(labels)};
}

} // namespace seqjit::testing
