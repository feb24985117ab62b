// Graph -> seq -> gpu kernels -> NVVM -> PTX text taken out of the gpu.binary op.
#include "compiler/PtxEmitter.h"

#include "compiler/Pipelines.h"
#include "dsl/Error.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/MLIRContext.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace seqjit {

std::string findLibdevice() {
  std::vector<std::string> roots;
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable))
      roots.push_back(value);
  roots.push_back("/usr/local/cuda");
  roots.push_back("/usr/lib/cuda");
  for (const std::string &root : roots) {
    std::filesystem::path candidate = std::filesystem::path(root) / "nvvm" / "libdevice" / "libdevice.10.bc";
    if (std::filesystem::exists(candidate))
      return candidate.string();
  }
  return "";
}

std::vector<PtxModule> emitModulePtx(mlir::ModuleOp module, const std::string &name, const PtxOptions &ptxOptions) {
  std::string libdevice = ptxOptions.libdevice.empty() ? findLibdevice() : ptxOptions.libdevice;
  if (mlir::failed(runPipeline(module, ptxPipeline(ptxOptions.chip, ptxOptions.features, libdevice))))
    throw Error(fmt::format("{}: lowering to PTX for {} failed (see the diagnostics above)", name, ptxOptions.chip));
  std::vector<PtxModule> modules;
  module->walk([&](mlir::gpu::BinaryOp binary) {
    for (mlir::Attribute attribute : binary.getObjects()) {
      auto object = llvm::cast<mlir::gpu::ObjectAttr>(attribute);
      std::string text = object.getObject().getValue().str();
      while (!text.empty() && text.back() == '\0')
        text.pop_back();
      modules.push_back({binary.getSymName().str(), std::move(text)});
    }
  });
  if (modules.empty())
    throw Error(fmt::format("{}: the GPU pipeline produced no PTX", name));
  return modules;
}

std::vector<PtxModule> emitPtx(const Graph &graph, const ImportOptions &options, const PtxOptions &ptxOptions) {
  if (options.batch <= 0)
    throw Error(fmt::format("model '{}': PTX emission needs a static batch size", graph.name));
  mlir::MLIRContext context;
  auto module = importGraph(context, graph, options);
  return emitModulePtx(*module, fmt::format("model '{}'", graph.name), ptxOptions);
}

} // namespace seqjit
