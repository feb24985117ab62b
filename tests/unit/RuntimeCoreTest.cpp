// The runtime core on its own: this binary links seqjit_runtime_core and nothing of the compiler
// (tests/CMakeLists.txt), loads no MLIR or LLVM library, and runs a program built here by the system's C compiler with
// the artifacts' calling convention. The compiled-program cache: entries found whole, every kind of damage detected and
// the entry discarded, the size bound kept by evicting the least recently used, and concurrent writers of one entry.
#include "ExpectError.h"
#include "runtime/core/CudaDevice.h"
#include "runtime/core/HostMemory.h"
#include "runtime/core/NativeProgram.h"
#include "runtime/core/ParallelFor.h"
#include "runtime/core/ProgramCache.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace seqjit {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const fs::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A fresh directory under the test's temporary directory.
fs::path scratch(const std::string &name) {
  fs::path directory = fs::temp_directory_path() / fmt::format("seqjit-runtime-core-{}-{}", getpid(), name);
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

/// A shared object with the artifacts' conventions, `scale_<factor>`: result = factor * argument for a float vector
/// (a rank-1 memref descriptor in and out), allocated with malloc as compiled programs do, the loop run through the
/// kernel threads' import slot as a compiled parallel loop nest is; it has every slot of a program for the CPU.
std::string scaleProgram(int factor) {
  fs::path directory = scratch("program-" + std::to_string(factor));
  std::string slots;
  for (const auto &[function, address] : programImports(Device::Cpu))
    slots += fmt::format("void *{} = 0;\n", importSlotSymbol(function));
  std::string source = slots + fmt::format(R"(
#include <stdint.h>
#include <stdlib.h>
typedef struct {{ float *allocated, *aligned; int64_t offset, size, stride; }} Vector;
typedef struct {{ float *out; const Vector *input; }} Scale;
static void scaleRange(void *context, int64_t begin, int64_t end) {{
  Scale *scale = context;
  for (int64_t i = begin; i < end; ++i)
    scale->out[i] = {0} * scale->input->aligned[scale->input->offset + i * scale->input->stride];
}}
void seqjit_packed_scale_{0}(void **arguments) {{
  Vector *result = *(Vector **)arguments[0];
  const Vector *input = *(Vector **)arguments[1];
  Scale scale = {{malloc(sizeof(float) * input->size), input}};
  ((void (*)(void (*)(void *, int64_t, int64_t), void *, int64_t, int64_t, int64_t)){1})(scaleRange, &scale, 0,
                                                                                         input->size, 1);
  result->allocated = result->aligned = scale.out;
  result->offset = 0;
  result->size = input->size;
  result->stride = 1;
}}
)",
                                           factor, importSlotSymbol(kParallelForFunction));
  writeFile(directory / "scale.c", source);
  std::string command = fmt::format("cc -shared -fPIC -O1 -o '{}' '{}'", (directory / "scale.so").string(),
                                    (directory / "scale.c").string());
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::string bytes = readFile(directory / "scale.so");
  fs::remove_all(directory);
  return bytes;
}

std::vector<float> runScale(const NativeProgram &program, int factor, std::vector<float> input) {
  std::vector<float> output(input.size());
  program.call("scale_" + std::to_string(factor), {{input.data(), {static_cast<int64_t>(input.size())}}},
               {{output.data(), {static_cast<int64_t>(output.size())}}});
  return output;
}

TEST(RuntimeCore, LoadsNoMlirOrLlvmLibrary) {
  std::string maps = readFile("/proc/self/maps");
  EXPECT_EQ(maps.find("libMLIR"), std::string::npos);
  EXPECT_EQ(maps.find("libLLVM"), std::string::npos);
  EXPECT_EQ(maps.find("libmlir"), std::string::npos);
}

TEST(RuntimeCore, RunsAProgramFromItsBytesAndChecksResultShapes) {
  auto program = NativeProgram::loadBytes(scaleProgram(3), {"scale_3"}, sizeof(float));
  EXPECT_EQ(runScale(*program, 3, {1, -2, 0.5f}), (std::vector<float>{3, -6, 1.5f}));
  std::vector<float> input{1, 2}, output(3);
  testing::expectError(
      [&] {
        program->call("scale_3", {{input.data(), {2}}}, {{output.data(), {3}}});
      },
      {"compiled function 'scale_3'", "dimension 0 of result 0 of size 2, expected 3"});
  testing::expectError(
      [&] {
        program->call("scale_4", {{input.data(), {2}}}, {{output.data(), {2}}});
      },
      {"'scale_4'", "no such entry point"});
  testing::expectError([&] { NativeProgram::loadBytes(scaleProgram(3), {"forward"}, sizeof(float)); },
                       {"has no entry point 'forward'"});
  testing::expectError([&] { NativeProgram::loadBytes("not a shared object", {"forward"}, sizeof(float)); },
                       {"cannot load the compiled program"});
}

TEST(RuntimeCore, AProgramForCudaHasItsRuntimeImportSlotsFilled) {
  testing::expectError([&] { NativeProgram::loadBytes(scaleProgram(3), {"scale_3"}, sizeof(float), Device::Cuda); },
                       {"has no import slot for 'mgpuModuleLoadJIT'", "not compiled for cuda"});
  // A program with every slot: the loader fills each with the runtime's function, and a call says why it cannot run
  // where there is no GPU.
  std::string slots;
  for (const auto &[function, address] : programImports(Device::Cuda))
    slots += fmt::format("void *{} = 0;\n", importSlotSymbol(function));
  fs::path directory = scratch("slots");
  writeFile(directory / "slots.c", slots + "void seqjit_packed_f(void **arguments) {}\n");
  std::string command =
      fmt::format("cc -shared -fPIC -o '{}' '{}'", (directory / "slots.so").string(), (directory / "slots.c").string());
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  auto program = NativeProgram::load(directory / "slots.so", {"f"}, sizeof(float), Device::Cuda);
  void *handle = dlopen((directory / "slots.so").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  for (const auto &[function, address] : programImports(Device::Cuda))
    EXPECT_EQ(*static_cast<void **>(dlsym(handle, importSlotSymbol(function).c_str())), address) << function;
  dlclose(handle);
  std::string why;
  if (!CudaDevice::get(why))
    testing::expectError([&] { program->call("f", {}, {}); }, {"'f' was compiled for CUDA, but cannot run", why});
  fs::remove_all(directory);
}

TEST(HostMemory, LargeBuffersAreReusedAndEveryBufferIsAlignedAndWritable) {
  // A large buffer freed is handed out again for the same size, or a size up to half smaller.
  void *large = seqjit_host_aligned_alloc(64, kPooledBufferBytes + 100);
  ASSERT_NE(large, nullptr);
  std::memset(large, 1, kPooledBufferBytes + 100);
  seqjit_host_free(large);
  void *again = seqjit_host_aligned_alloc(64, kPooledBufferBytes);
  EXPECT_EQ(again, large);
  void *other = seqjit_host_aligned_alloc(64, kPooledBufferBytes); // the first is taken: a new one
  EXPECT_NE(other, again);
  seqjit_host_free(again);
  seqjit_host_free(other);
  // Small and large buffers from several threads at once: aligned, writable, and never handed out twice.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t bytes = (i % 3 == 0 ? kPooledBufferBytes : 1000) * (1 + (i + t) % 3);
        auto *buffer = static_cast<unsigned char *>(seqjit_host_aligned_alloc(64, bytes));
        if (!buffer || reinterpret_cast<uintptr_t>(buffer) % 64 != 0) {
          ++failures;
          continue;
        }
        std::memset(buffer, t + 1, static_cast<size_t>(bytes));
        std::this_thread::yield();
        if (buffer[0] != t + 1 || buffer[bytes - 1] != t + 1)
          ++failures; // another thread wrote it
        seqjit_host_free(buffer);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  seqjit_host_free(seqjit_host_alloc(10)); // malloc-backed, freed by the same function
  seqjit_host_free(nullptr);
}

TEST(ProgramCache, AStoredEntryIsFoundAndRuns) {
  ProgramCache cache(scratch("found"), 1 << 30);
  std::string rejected;
  EXPECT_FALSE(cache.find("k1", "target-a", rejected));
  EXPECT_EQ(rejected, "");
  cache.store("k1", "target-a", scaleProgram(2));
  auto entry = cache.find("k1", "target-a", rejected);
  ASSERT_TRUE(entry) << rejected;
  auto program = NativeProgram::load(*entry, {"scale_2"}, sizeof(float));
  EXPECT_EQ(runScale(*program, 2, {1, 4}), (std::vector<float>{2, 8}));
  EXPECT_EQ(cache.usage().entries, 1u);
  EXPECT_EQ(cache.clear(), 1u);
  EXPECT_EQ(cache.usage().entries, 0u);
  fs::remove_all(cache.directory());
}

TEST(ProgramCache, EveryKindOfDamageIsDetectedAndTheEntryDiscarded) {
  std::string library = scaleProgram(2);
  struct Damage {
    std::string name;
    std::function<void(const fs::path &so, const fs::path &manifest)> apply;
    std::string expected;
  };
  std::vector<Damage> damages{
      {"a flipped byte",
       [&](const fs::path &so, const fs::path &) {
         std::string bytes = library;
         bytes[bytes.size() / 2] ^= 0x40;
         writeFile(so, bytes);
       },
       "checksum"},
      {"truncated", [&](const fs::path &so, const fs::path &) { writeFile(so, library.substr(0, library.size() / 2)); },
       fmt::format("has {} bytes, the manifest says {}", library.size() / 2, library.size())},
      {"empty", [&](const fs::path &so, const fs::path &) { writeFile(so, ""); }, "has 0 bytes"},
      {"missing", [&](const fs::path &so, const fs::path &) { fs::remove(so); }, "shared object is missing"},
      {"another target",
       [&](const fs::path &, const fs::path &manifest) {
         std::string text = readFile(manifest);
         text.replace(text.find("target-a"), 8, "target-b");
         writeFile(manifest, text);
       },
       "built for another target (target-b)"},
      {"a damaged manifest", [&](const fs::path &, const fs::path &manifest) { writeFile(manifest, "crc32: 1\n"); },
       "manifest is damaged"},
      {"a truncated manifest",
       [&](const fs::path &, const fs::path &manifest) { writeFile(manifest, readFile(manifest).substr(0, 30)); },
       "manifest is damaged"},
  };
  for (const Damage &damage : damages) {
    ProgramCache cache(scratch("damage"), 1 << 30);
    cache.store("key", "target-a", library);
    damage.apply(cache.directory() / "key.so", cache.directory() / "key.manifest");
    std::string rejected;
    EXPECT_FALSE(cache.find("key", "target-a", rejected)) << damage.name;
    EXPECT_NE(rejected.find(damage.expected), std::string::npos) << damage.name << ": " << rejected;
    EXPECT_FALSE(fs::exists(cache.directory() / "key.so")) << damage.name;
    EXPECT_FALSE(fs::exists(cache.directory() / "key.manifest")) << damage.name;
    // Rebuilt: stored again, found whole.
    cache.store("key", "target-a", library);
    EXPECT_TRUE(cache.find("key", "target-a", rejected)) << damage.name << ": " << rejected;
    fs::remove_all(cache.directory());
  }
}

TEST(ProgramCache, EvictionKeepsTheBoundAndTheRecentlyUsed) {
  std::string library = scaleProgram(2);
  uint64_t entryBytes = library.size() + 400; // the manifest is a few hundred bytes
  ProgramCache cache(scratch("evict"), 3 * entryBytes);
  std::string rejected;
  for (int i = 0; i < 3; ++i) {
    cache.store(fmt::format("k{}", i), "t", library);
    // Distinct use times, whatever the file system's timestamp resolution.
    fs::last_write_time(cache.directory() / fmt::format("k{}.manifest", i),
                        fs::file_time_type::clock::now() - std::chrono::hours(10 - i));
  }
  EXPECT_EQ(cache.usage().entries, 3u);
  ASSERT_TRUE(cache.find("k0", "t", rejected)); // the oldest entry, now the most recently used
  for (int i = 3; i < 5; ++i) {
    cache.store(fmt::format("k{}", i), "t", library);
    EXPECT_LE(cache.usage().bytes, cache.maxBytes());
  }
  EXPECT_EQ(cache.usage().entries, 3u);
  EXPECT_FALSE(cache.find("k1", "t", rejected));
  EXPECT_FALSE(cache.find("k2", "t", rejected));
  for (const char *kept : {"k0", "k3", "k4"})
    EXPECT_TRUE(cache.find(kept, "t", rejected)) << kept;
  // A temporary file of a writer that died an hour ago goes; a recent one (a writer at work) stays.
  writeFile(cache.directory() / "k9.so.tmp.1.0", "abandoned");
  fs::last_write_time(cache.directory() / "k9.so.tmp.1.0", fs::file_time_type::clock::now() - std::chrono::hours(2));
  writeFile(cache.directory() / "k9.so.tmp.1.1", "in progress");
  cache.store("k5", "t", library);
  EXPECT_FALSE(fs::exists(cache.directory() / "k9.so.tmp.1.0"));
  EXPECT_TRUE(fs::exists(cache.directory() / "k9.so.tmp.1.1"));
  fs::remove(cache.directory() / "k9.so.tmp.1.1");
  // A bound below one entry still keeps the newest entry.
  ProgramCache tiny(cache.directory(), 1);
  tiny.store("k6", "t", library);
  EXPECT_EQ(tiny.usage().entries, 1u);
  EXPECT_TRUE(tiny.find("k6", "t", rejected));
  fs::remove_all(cache.directory());
}

TEST(ProgramCache, ConcurrentWritersOfOneEntryLeaveItWhole) {
  std::string library = scaleProgram(2);
  ProgramCache cache(scratch("concurrent"), 1 << 30);
  std::vector<pid_t> children;
  for (int c = 0; c < 4; ++c) {
    pid_t child = fork();
    if (child == 0) {
      // Each writer stores the entry repeatedly while reading it back; a reader sees a whole entry or none.
      int status = 0;
      for (int i = 0; i < 50; ++i) {
        cache.store("shared", "t", library);
        std::string rejected;
        if (auto entry = cache.find("shared", "t", rejected); !entry && !rejected.empty())
          status = 1;
      }
      _exit(status);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::string rejected;
  auto entry = cache.find("shared", "t", rejected);
  ASSERT_TRUE(entry) << rejected;
  EXPECT_EQ(readFile(*entry), library);
  // The entry's two files, and no writer's temporary file left behind.
  std::set<std::string> files;
  for (const auto &file : fs::directory_iterator(cache.directory()))
    files.insert(file.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"shared.manifest", "shared.so"}));
  fs::remove_all(cache.directory());
}

TEST(ProgramCache, SettingsComeFromTheEnvironment) {
  setenv("SEQJIT_CACHE_DIR", "/some/where", 1);
  setenv("SEQJIT_CACHE_MAX_BYTES", "3M", 1);
  auto cache = ProgramCache::fromEnvironment();
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->directory(), fs::path("/some/where/programs"));
  EXPECT_EQ(cache->maxBytes(), 3u << 20);
  setenv("SEQJIT_CACHE_MAX_BYTES", "lots", 1);
  testing::expectError([] { ProgramCache::fromEnvironment(); }, {"SEQJIT_CACHE_MAX_BYTES", "'lots'"});
  unsetenv("SEQJIT_CACHE_MAX_BYTES");
  setenv("SEQJIT_CACHE", "off", 1);
  EXPECT_FALSE(ProgramCache::fromEnvironment());
  unsetenv("SEQJIT_CACHE");
  unsetenv("SEQJIT_CACHE_DIR");
}

} // namespace
} // namespace seqjit
