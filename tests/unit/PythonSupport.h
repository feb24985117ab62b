// Test helpers: a scratch directory per test and running the numpy/h5py/torch cross-check scripts.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace seqjit::testing {

/// A fresh directory under the system temp directory, removed with everything in it at the end of the test.
class ScratchDirectory {
public:
  ScratchDirectory() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "scratch";
    path_ = std::filesystem::temp_directory_path() / ("seqjit_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string &name) const { return (path_ / name).string(); }
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// The exit status and combined output of a command.
struct CommandResult {
  int status = -1;
  std::string output;
};

inline CommandResult runCommand(const std::string &command) {
  CommandResult result;
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    return result;
  std::array<char, 4096> buffer;
  size_t read;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), read);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Whether /usr/bin/python3 can import the given modules (e.g. "numpy", "numpy, h5py").
inline bool pythonHas(const std::string &modules) {
  return runCommand("/usr/bin/python3 -c 'import " + modules + "'").status == 0;
}

/// Runs tests/python/<script> with arguments; the test fails with the script's output if it exits non-zero.
inline CommandResult runPythonScript(const std::string &script, const std::string &arguments) {
  CommandResult result = runCommand("/usr/bin/python3 '" + std::string(SEQJIT_SOURCE_DIR) + "/tests/python/" +
                                    script + "' " + arguments);
  EXPECT_EQ(result.status, 0) << script << " " << arguments << " failed:\n" << result.output;
  return result;
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

} // namespace seqjit::testing

/// Skips the current test when python3 lacks the modules the cross-check needs (e.g. on a minimal CI image).
#define SEQJIT_REQUIRE_PYTHON(modules)                                                                               \
  do {                                                                                                               \
    if (!::seqjit::testing::pythonHas(modules))                                                                      \
      GTEST_SKIP() << "/usr/bin/python3 with " << (modules) << " is needed for this cross-check";                  \
  } while (0)
