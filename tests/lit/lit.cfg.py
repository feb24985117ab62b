# lit configuration: FileCheck tests of the seq dialect and seqjit's passes, run through seqjit-opt.
import os
import lit.formats

config.name = "seqjit"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.seqjit_binary_dir, "tests", "lit")
config.substitutions.append(("%seqjit-opt", os.path.join(config.seqjit_binary_dir, "bin", "seqjit-opt")))
config.substitutions.append(("FileCheck", os.path.join(config.llvm_tools_dir, "FileCheck")))
config.substitutions.append(("%not", os.path.join(config.llvm_tools_dir, "not")))
