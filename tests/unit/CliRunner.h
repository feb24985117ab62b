// Running the built seqjit driver from a test as a user would, capturing what it prints and how it ended.
#pragma once

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace seqjit::testing {

struct RunResult {
  bool exited = false; ///< False when the process ended by a signal (a crash).
  int exitCode = -1;
  std::string output; ///< stdout and stderr together.

  /// The lines of `output`, without the progress note printed while a model file compiles.
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("seqjit: compiling model file", 0) != 0)
        result.push_back(line);
    return result;
  }
};

/// `text` in single quotes for the shell.
inline std::string quote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

inline std::filesystem::path seqjitBinary() { return std::filesystem::path(SEQJIT_BINARY_DIR) / "bin" / "seqjit"; }

/// The shell command that runs `seqjit <arguments>` in `directory` with a private model-file cache there.
inline std::string seqjitCommand(const std::filesystem::path &directory, const std::string &arguments,
                                 const std::string &environment = {}) {
  return fmt::format("cd {} && SEQJIT_CACHE_DIR={} {} {} {} 2>&1", quote(directory.string()),
                     quote((directory / "cache").string()), environment, quote(seqjitBinary().string()), arguments);
}

/// Runs `seqjit <arguments>` in `directory` and waits for it.
inline RunResult runSeqjit(const std::filesystem::path &directory, const std::string &arguments,
                           const std::string &environment = {}) {
  RunResult result;
  FILE *pipe = popen(seqjitCommand(directory, arguments, environment).c_str(), "r");
  if (!pipe)
    return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  // The shell may not exec the last command: a child killed by signal S then shows as exit status 128 + S.
  result.exited = WIFEXITED(status) && WEXITSTATUS(status) < 128;
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Expects exit status 1 and exactly one line, "seqjit: error: ...", containing every piece of `expected`.
inline void expectOneError(const RunResult &result, const std::vector<std::string> &expected) {
  EXPECT_TRUE(result.exited) << "seqjit crashed:\n" << result.output;
  EXPECT_EQ(result.exitCode, 1) << result.output;
  std::vector<std::string> lines = result.lines();
  ASSERT_EQ(lines.size(), 1u) << "expected one error line, got:\n" << result.output;
  EXPECT_THAT(lines[0], ::testing::StartsWith("seqjit: error: "));
  for (const std::string &piece : expected)
    EXPECT_THAT(lines[0], ::testing::HasSubstr(piece));
}

/// A test that runs the seqjit driver in a temporary directory of its own (named after the suite's `prefix`, the
/// process and the test), removed afterwards.
class SeqjitDirectoryTest : public ::testing::Test {
protected:
  explicit SeqjitDirectoryTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(seqjitBinary())) << seqjitBinary() << " is missing: build the seqjit target";
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::temp_directory_path() / fmt::format("{}-{}-{}", prefix_, getpid(), info->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  std::string path(const std::string &name) const { return (directory_ / name).string(); }
  /// Runs `seqjit <arguments>` in the directory with a private model-file cache.
  RunResult run(const std::string &arguments, const std::string &environment = {}) const {
    return runSeqjit(directory_, arguments, environment);
  }

  std::filesystem::path directory_;

private:
  std::string prefix_;
};

} // namespace seqjit::testing
