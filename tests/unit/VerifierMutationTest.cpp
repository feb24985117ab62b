// Malformed IR is rejected with a diagnostic, never a crash: every lit test's IR, split as -split-input-file splits
// it, is mutated in many ways (truncated, an operand dropped with or without its type, every operand dropped, element
// types and dimensions changed, ranks grown and shrunk, attributes replaced by values of other types and ranges,
// attributes deleted) and each mutant goes through the parser and the verifiers as seqjit-opt runs them. A mutant
// either verifies or fails with at least one error diagnostic.
#include "compiler/SeqDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace seqjit {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The chunks of a lit file as -split-input-file makes them.
std::vector<std::string> splitInputFile(const std::string &text) {
  std::vector<std::string> chunks;
  size_t start = 0;
  const std::string separator = "// -----";
  for (size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + separator.size())
    chunks.push_back(text.substr(start, at - start));
  chunks.push_back(text.substr(start));
  return chunks;
}

/// Every match of `pattern` in `text` replaced, one at a time, by each of `replacements`.
void replaceEachMatch(const std::string &text, const std::regex &pattern, const std::vector<std::string> &replacements,
                      std::vector<std::string> &mutants) {
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it)
    for (const std::string &replacement : replacements) {
      std::string mutant = text;
      mutant.replace(it->position(), it->length(), replacement);
      mutants.push_back(std::move(mutant));
    }
}

/// The `index`-th comma-separated item of the parenthesised list starting at `open` removed; false if it has none.
bool dropListItem(std::string &text, size_t open, size_t index) {
  int depth = 0;
  std::vector<size_t> commas;
  size_t close = std::string::npos;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (c == '(' || c == '<' || c == '[' || c == '{')
      ++depth;
    else if (c == ')' || c == '>' || c == ']' || c == '}') {
      if (c == '>' && i > 0 && text[i - 1] == '-')
        continue; // the arrow of a function type
      if (--depth == 0) {
        close = i;
        break;
      }
    } else if (c == ',' && depth == 1)
      commas.push_back(i);
  }
  if (close == std::string::npos || index > commas.size())
    return false;
  size_t begin = index == 0 ? open + 1 : commas[index - 1];
  size_t end = index < commas.size() ? commas[index] + (index == 0 ? 1 : 0) : close;
  text.erase(begin, end - begin);
  return true;
}

/// Mutants of the operation on one line: each operand dropped alone, and with its type where the op has a
/// functional type; every operand dropped with every type.
void dropOperands(const std::string &text, size_t lineStart, size_t lineEnd, std::vector<std::string> &mutants) {
  std::string line = text.substr(lineStart, lineEnd - lineStart);
  size_t equals = line.find(" = ");
  size_t colon = line.rfind(" : (");
  if (equals == std::string::npos)
    return;
  static const std::regex operand(R"(%[A-Za-z0-9_.#]+)");
  std::vector<std::pair<size_t, size_t>> operands; // position in the line and length
  size_t operandsEnd = colon == std::string::npos ? line.size() : colon;
  for (auto it = std::sregex_iterator(line.begin() + equals, line.begin() + operandsEnd, operand);
       it != std::sregex_iterator(); ++it)
    operands.push_back({equals + it->position(), it->length()});
  for (size_t i = 0; i < operands.size(); ++i) {
    auto [position, length] = operands[i];
    // ", %x" or "%x, " goes.
    size_t begin = position, end = position + length;
    if (line.compare(end, 2, ", ") == 0)
      end += 2;
    else if (begin >= 2 && line.compare(begin - 2, 2, ", ") == 0)
      begin -= 2;
    std::string dropped = line;
    dropped.erase(begin, end - begin);
    mutants.push_back(text.substr(0, lineStart) + dropped + text.substr(lineEnd));
    if (colon != std::string::npos) {
      std::string withType = dropped;
      if (dropListItem(withType, withType.rfind(" : (") + 3, i))
        mutants.push_back(text.substr(0, lineStart) + withType + text.substr(lineEnd));
    }
  }
  if (!operands.empty() && colon != std::string::npos) {
    // Every operand and every operand type: `seq.add {layer = "x"} : () -> tensor<...>`.
    size_t typesOpen = colon + 3;
    size_t typesClose = line.find(") ->", typesOpen);
    if (typesClose == std::string::npos)
      return;
    size_t operandsStop = operands.back().first + operands.back().second;
    std::string none = line.substr(0, operands.front().first) +
                       line.substr(operandsStop, typesOpen + 1 - operandsStop) + line.substr(typesClose);
    mutants.push_back(text.substr(0, lineStart) + none + text.substr(lineEnd));
  }
}

std::vector<std::string> mutate(const std::string &chunk) {
  std::vector<std::string> mutants;
  // Truncated text, at 40 points spread over the chunk.
  for (size_t i = 1; i <= 40; ++i)
    mutants.push_back(chunk.substr(0, chunk.size() * i / 41));
  // Operands dropped, line by line.
  for (size_t start = 0, end; start < chunk.size(); start = end + 1) {
    end = chunk.find('\n', start);
    if (end == std::string::npos)
      end = chunk.size();
    if (chunk.compare(start, 2, "//") != 0 && chunk.find("//", start) != start)
      dropOperands(chunk, start, end, mutants);
  }
  // Element types and dimensions.
  replaceEachMatch(chunk, std::regex(R"(\bf32\b)"), {"f64", "i32", "f16", "index"}, mutants);
  replaceEachMatch(chunk, std::regex(R"(\bf64\b)"), {"f32", "i1"}, mutants);
  replaceEachMatch(chunk, std::regex(R"(<(\d+|\?)x)"),
                   {"<", "<0x", "<1x", "<7x", "<?x", "<3x2x", "<4611686018427387904x"}, mutants);
  replaceEachMatch(chunk, std::regex(R"(x(\d+|\?)x)"), {"x", "x0x", "x1x", "x9x", "x?x"}, mutants);
  replaceEachMatch(chunk, std::regex(R"(tensor<(\d+)xf)"), {"tensor<f", "tensor<0xf", "tensor<5x5xf"}, mutants);
  // Attributes: other values of other types, and none.
  replaceEachMatch(
      chunk, std::regex(R"(-?\d+ : i64)"),
      {"0 : i64", "-1 : i64", "-9223372036854775807 : i64", "9223372036854775807 : i64", "1.5 : f64", "\"x\""},
      mutants);
  replaceEachMatch(chunk, std::regex(R"(-?[0-9.]+(e[-+]?\d+)? : f64)"),
                   {"0.0 : f64", "-1.0 : f64", "1.0e+300 : f64", "0x7FF8000000000000 : f64", "2 : i64", "\"x\""},
                   mutants);
  replaceEachMatch(chunk, std::regex(R"(= "[^"]*")"), {"= \"\"", "= \"bogus\"", "= 3 : i64", "= [1, 2]", "= unit"},
                   mutants);
  replaceEachMatch(chunk, std::regex(R"(\b(true|false)\b)"), {"1 : i64", "\"true\""}, mutants);
  replaceEachMatch(chunk, std::regex(R"(\b[a-z_]+ = [^,{}]+(, )?)"), {""}, mutants);
  replaceEachMatch(chunk, std::regex(R"(\{[^{}]*\} :)"), {":", "{} :"}, mutants);
  return mutants;
}

/// Parses and verifies `text` as seqjit-opt does; returns false if it failed without an error diagnostic.
bool parsesOrSaysWhy(mlir::MLIRContext &context, const std::string &text) {
  int errors = 0;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error)
      ++errors;
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  return module || errors > 0;
}

class VerifierMutationTest : public ::testing::Test {
protected:
  VerifierMutationTest() {
    mlir::DialectRegistry registry;
    mlir::registerAllDialects(registry);
    mlir::registerAllExtensions(registry);
    registry.insert<seq::SeqDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    context.allowUnregisteredDialects(false);
  }
  mlir::MLIRContext context;
};

TEST_F(VerifierMutationTest, AddAndConcatWithoutOperandsAreRejected) {
  for (const char *op : {"add", "concat"}) {
    std::string text = std::string("func.func @f() -> tensor<2x4x20xf32> {\n  %s = seq.") + op +
                       " {layer = \"x\"} : () -> tensor<2x4x20xf32>\n  return %s : tensor<2x4x20xf32>\n}\n";
    std::vector<std::string> messages;
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
      messages.push_back(diagnostic.str());
      return mlir::success();
    });
    EXPECT_FALSE(mlir::parseSourceString<mlir::ModuleOp>(text, &context)) << op;
    ASSERT_EQ(messages.size(), 1u) << op;
    EXPECT_NE(messages[0].find("at least one input"), std::string::npos) << messages[0];
  }
}

TEST_F(VerifierMutationTest, EveryMutantOfEveryLitTestIsRejectedWithADiagnosticOrVerifies) {
  size_t mutants = 0, files = 0;
  for (const auto &entry : fs::directory_iterator(fs::path(SEQJIT_SOURCE_DIR) / "tests" / "lit")) {
    if (entry.path().extension() != ".mlir")
      continue;
    ++files;
    std::set<std::string> seen; // mutations that coincide are parsed once
    for (const std::string &chunk : splitInputFile(readFile(entry.path())))
      for (const std::string &mutant : mutate(chunk)) {
        if (!seen.insert(mutant).second)
          continue;
        ++mutants;
        ASSERT_TRUE(parsesOrSaysWhy(context, mutant)) << entry.path().filename() << ": failed without a diagnostic on\n"
                                                      << mutant;
      }
  }
  EXPECT_GE(files, 10u);
  EXPECT_GE(mutants, 5000u);
  std::printf("%zu mutants of %zu lit files: none crashed, every rejection said why\n", mutants, files);
}

} // namespace
} // namespace seqjit
