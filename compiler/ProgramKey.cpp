#include "compiler/ProgramKey.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <cstring>
#include <elf.h>
#include <link.h>
#include <mutex>

namespace seqjit {

namespace {

struct BuildIdSearch {
  uintptr_t address;
  std::string id;
};

/// dl_iterate_phdr's callback: the build ID note of the loaded object one of whose segments holds `address`.
int findBuildId(dl_phdr_info *info, size_t, void *data) {
  auto *search = static_cast<BuildIdSearch *>(data);
  bool holds = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &segment = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && search->address >= start && search->address < start + segment.p_memsz)
      holds = true;
  }
  if (!holds)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_NOTE)
      continue;
    auto *note = reinterpret_cast<const char *>(info->dlpi_addr + segment.p_vaddr);
    const char *end = note + segment.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      auto *header = reinterpret_cast<const ElfW(Nhdr) *>(note);
      const char *name = note + sizeof(ElfW(Nhdr));
      const char *description = name + ((header->n_namesz + 3) & ~3u);
      if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (size_t b = 0; b < header->n_descsz; ++b)
          search->id += fmt::format("{:02x}", static_cast<unsigned char>(description[b]));
        return 1;
      }
      note = description + ((header->n_descsz + 3) & ~3u);
    }
  }
  return 1;
}

} // namespace

std::string compilerBuildId() {
  static std::once_flag once;
  static std::string id;
  std::call_once(once, [] {
    BuildIdSearch search{reinterpret_cast<uintptr_t>(&compilerBuildId), {}};
    dl_iterate_phdr(findBuildId, &search);
    id = search.id;
  });
  return id;
}

std::string programKey(mlir::ModuleOp module, const std::string &pipeline, const std::string &target,
                       const std::vector<std::string> &entryPoints, int optLevel) {
  std::string ir;
  llvm::raw_string_ostream stream(ir);
  module->print(stream, mlir::OpPrintingFlags().printGenericOpForm().enableDebugInfo(false));
  llvm::SHA256 hash;
  // Every part is length-prefixed, so that no two different inputs hash the same concatenation.
  auto add = [&](const std::string &part) {
    hash.update(fmt::format("{}:", part.size()));
    hash.update(part);
  };
  add(compilerBuildId());
  add(ir);
  add(pipeline);
  add(target);
  for (const std::string &entryPoint : entryPoints)
    add(entryPoint);
  add(std::to_string(optLevel));
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

} // namespace seqjit
