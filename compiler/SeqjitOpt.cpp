// seqjit-opt: mlir-opt with the seq dialect and seqjit's passes, for FileCheck tests and IR experiments.
#include "compiler/GraphImport.h"
#include "compiler/Pipelines.h"
#include "compiler/SeqDialect.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  seqjit::registerPipelinePasses();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<seqjit::seq::SeqDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "seqjit optimizer driver\n", registry));
}
