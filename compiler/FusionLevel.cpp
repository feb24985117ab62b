#include "compiler/FusionLevel.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>

namespace seqjit {

namespace {

/// setFusionLevel()'s choice; -1 where none was made.
std::atomic<int> chosen{-1};

} // namespace

const char *fusionLevelName(FusionLevel level) {
  switch (level) {
  case FusionLevel::None:
    return "none";
  case FusionLevel::Epilogue:
    return "epilogue";
  case FusionLevel::Full:
    return "full";
  }
  return "full";
}

FusionLevel parseFusionLevel(const std::string &name, const std::string &what) {
  for (FusionLevel level : {FusionLevel::None, FusionLevel::Epilogue, FusionLevel::Full})
    if (name == fusionLevelName(level))
      return level;
  throw Error(fmt::format("{} must be none, epilogue or full, got '{}'", what, name));
}

FusionLevel fusionLevel() {
  if (int level = chosen.load(); level >= 0)
    return static_cast<FusionLevel>(level);
  const char *configured = std::getenv("SEQJIT_FUSION");
  if (!configured || !*configured)
    return FusionLevel::Full;
  return parseFusionLevel(configured, "SEQJIT_FUSION");
}

void setFusionLevel(FusionLevel level) { chosen.store(static_cast<int>(level)); }

} // namespace seqjit
