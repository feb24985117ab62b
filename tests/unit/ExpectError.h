// expectError: a test helper asserting that a call throws seqjit::Error whose message names what it should.
#pragma once

#include "dsl/Error.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace seqjit::testing {

/// Expects `call` to throw seqjit::Error whose message contains every one of `parts`.
template <typename Call> void expectError(Call call, std::initializer_list<std::string> parts) {
  try {
    call();
    ADD_FAILURE() << "expected seqjit::Error";
  } catch (const Error &error) {
    std::string message = error.what();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "message lacks '" << part << "': " << message;
  }
}

} // namespace seqjit::testing
