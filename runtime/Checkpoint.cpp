// Checkpoints as a ZIP of .npy arrays plus checkpoint.json, written with writeFileAtomically and read all-or-nothing.
#include "runtime/Checkpoint.h"

#include "compiler/Programs.h"
#include "dsl/Error.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/Npy.h"
#include "runtime/Zip.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace seqjit {

namespace {

using Json = nlohmann::json;

constexpr const char *kFormat = "seqjit-checkpoint";
constexpr int kVersion = 2; // 2: the plateau keeps its own best
constexpr const char *kRecord = "checkpoint.json";

/// JSON has no NaN: nlohmann writes it as null, and null reads back as NaN.
double numberOr(const Json &value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

Json valuesJson(const std::map<std::string, double> &values) {
  Json object = Json::object();
  for (const auto &[key, value] : values)
    object[key] = std::isfinite(value) ? Json(value) : Json(nullptr);
  return object;
}

std::map<std::string, double> valuesFrom(const Json &object) {
  std::map<std::string, double> values;
  for (const auto &[key, value] : object.items())
    values[key] = numberOr(value);
  return values;
}

Json recordJson(const EpochRecord &record) {
  return Json{{"epoch", record.epoch},
              {"learning_rate", record.learningRate},
              {"seconds", record.seconds},
              {"train", valuesJson(record.train)},
              {"validation", valuesJson(record.validation)},
              {"monitored", std::isfinite(record.monitored) ? Json(record.monitored) : Json(nullptr)}};
}

EpochRecord recordFrom(const Json &json) {
  EpochRecord record;
  record.epoch = json.at("epoch").get<int64_t>();
  record.learningRate = json.at("learning_rate").get<double>();
  record.seconds = json.at("seconds").get<double>();
  record.train = valuesFrom(json.at("train"));
  record.validation = valuesFrom(json.at("validation"));
  record.monitored = numberOr(json.at("monitored"));
  return record;
}

Json progressJson(const TrainingProgress &progress) {
  Json history = Json::array();
  for (const EpochRecord &record : progress.history)
    history.push_back(recordJson(record));
  return Json{{"epochs_done", progress.epochsDone},
              {"learning_rate", progress.learningRate},
              {"best_value", std::isfinite(progress.bestValue) ? Json(progress.bestValue) : Json(nullptr)},
              {"best_epoch", progress.bestEpoch},
              {"epochs_without_improvement", progress.epochsWithoutImprovement},
              {"plateau_best", std::isfinite(progress.plateauBest) ? Json(progress.plateauBest) : Json(nullptr)},
              {"plateau_wait", progress.plateauWait},
              {"stopped_early", progress.stoppedEarly},
              {"history", history}};
}

TrainingProgress progressFrom(const Json &json) {
  TrainingProgress progress;
  progress.epochsDone = json.at("epochs_done").get<int64_t>();
  progress.learningRate = json.at("learning_rate").get<double>();
  progress.bestValue = numberOr(json.at("best_value"));
  progress.bestEpoch = json.at("best_epoch").get<int64_t>();
  progress.epochsWithoutImprovement = json.at("epochs_without_improvement").get<int64_t>();
  progress.plateauBest = numberOr(json.at("plateau_best"));
  progress.plateauWait = json.at("plateau_wait").get<int64_t>();
  progress.stoppedEarly = json.at("stopped_early").get<bool>();
  for (const Json &record : json.at("history"))
    progress.history.push_back(recordFrom(record));
  return progress;
}

void addArrays(std::vector<ZipEntry> &entries, const std::string &group,
               const std::map<std::string, HostArray<float>> &arrays) {
  for (const auto &[name, array] : arrays)
    entries.push_back({group + "/" + name + ".npy", serializeNpy(array)});
}

/// The arrays of `group`, by name; what is missing or misshapen is found by the caller's checks.
std::map<std::string, HostArray<float>> arraysOf(const std::vector<ZipEntry> &entries, const std::string &group,
                                                 const std::string &path) {
  std::map<std::string, HostArray<float>> arrays;
  std::string prefix = group + "/";
  for (const ZipEntry &entry : entries)
    if (entry.name.starts_with(prefix) && entry.name.ends_with(".npy")) {
      std::string name = entry.name.substr(prefix.size(), entry.name.size() - prefix.size() - 4);
      arrays[name] = parseNpy<float>(entry.bytes, fmt::format("checkpoint '{}', entry '{}'", path, entry.name));
    }
  return arrays;
}

std::map<std::string, HostArray<float>> expectArrays(std::map<std::string, HostArray<float>> arrays,
                                                     const std::map<std::string, std::vector<int64_t>> &expected,
                                                     const std::string &group, const std::string &path) {
  std::map<std::string, HostArray<float>> checked;
  for (const auto &[name, shape] : expected) {
    auto found = arrays.find(name);
    if (found == arrays.end())
      throw Error(fmt::format("checkpoint '{}' lacks '{}/{}'", path, group, name));
    if (found->second.shape != shape)
      throw Error(fmt::format("checkpoint '{}': '{}/{}' has the wrong shape", path, group, name));
    checked[name] = std::move(found->second);
  }
  return checked;
}

std::string describeDifferences(const std::map<std::string, std::string> &written,
                                const std::map<std::string, std::string> &now) {
  std::string differences;
  auto add = [&](const std::string &key, const std::string &was, const std::string &is) {
    differences +=
        fmt::format("{} {}: checkpoint has '{}', this run has '{}'", differences.empty() ? "" : ";", key, was, is);
  };
  for (const auto &[key, value] : now) {
    auto found = written.find(key);
    if (found == written.end())
      add(key, "(nothing)", value);
    else if (found->second != value)
      add(key, found->second, value);
  }
  for (const auto &[key, value] : written)
    if (!now.contains(key))
      add(key, value, "(nothing)");
  return differences;
}

} // namespace

void writeCheckpoint(const std::string &path, const Checkpoint &checkpoint) {
  Json record{{"format", kFormat},
              {"version", kVersion},
              {"fingerprint", checkpoint.fingerprint},
              {"step", checkpoint.state.step},
              {"progress", progressJson(checkpoint.progress)}};
  std::vector<ZipEntry> entries{{kRecord, record.dump(2)}};
  addArrays(entries, "parameters", checkpoint.state.parameters.tensors());
  addArrays(entries, "optimizer_slots", checkpoint.state.optimizerSlots);
  addArrays(entries, "power_vectors", checkpoint.state.powerVectors);
  addArrays(entries, "best_parameters", checkpoint.bestParameters.tensors());
  writeFileAtomically(path, buildZipArchive(entries, path));
}

Checkpoint readCheckpoint(const std::string &path, const Graph &graph, const Objective &objective,
                          const Optimizer &optimizer, const std::map<std::string, std::string> &fingerprint) {
  std::vector<ZipEntry> entries;
  try {
    entries = readZipArchive(path);
  } catch (const Error &error) {
    throw Error(fmt::format("cannot resume from checkpoint '{}': {}", path, error.what()));
  }
  auto record = std::find_if(entries.begin(), entries.end(), [](const ZipEntry &e) { return e.name == kRecord; });
  if (record == entries.end())
    throw Error(fmt::format("'{}' is not a seqjit checkpoint (it has no {})", path, kRecord));
  Checkpoint checkpoint;
  try {
    Json json = Json::parse(record->bytes);
    if (json.at("format") != kFormat)
      throw Error(fmt::format("'{}' is not a seqjit checkpoint", path));
    if (json.at("version") != kVersion)
      throw Error(fmt::format("checkpoint '{}' has format version {}; this seqjit reads version {}", path,
                              json.at("version").dump(), kVersion));
    checkpoint.fingerprint = json.at("fingerprint").get<std::map<std::string, std::string>>();
    checkpoint.state.step = json.at("step").get<int64_t>();
    checkpoint.progress = progressFrom(json.at("progress"));
  } catch (const Json::exception &error) {
    throw Error(fmt::format("checkpoint '{}': its {} is malformed: {}", path, kRecord, error.what()));
  }
  if (checkpoint.fingerprint != fingerprint)
    throw Error(fmt::format("checkpoint '{}' was written by a different run; it cannot be resumed with these "
                            "settings:{}",
                            path, describeDifferences(checkpoint.fingerprint, fingerprint)));

  std::string source = fmt::format("checkpoint '{}'", path);
  checkpoint.state.parameters = Parameters::fromArrays(graph, arraysOf(entries, "parameters", path), source);
  checkpoint.bestParameters = Parameters::fromArrays(graph, arraysOf(entries, "best_parameters", path), source);
  std::map<std::string, std::vector<int64_t>> slotShapes, vectorShapes;
  for (const std::string &name : optimizerSlotNames(graph, optimizer))
    slotShapes[name] = checkpoint.state.parameters.at(name.substr(0, name.rfind('.'))).shape;
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph))
      vectorShapes[vector.name] = {vector.size};
  checkpoint.state.optimizerSlots =
      expectArrays(arraysOf(entries, "optimizer_slots", path), slotShapes, "optimizer_slots", path);
  checkpoint.state.powerVectors =
      expectArrays(arraysOf(entries, "power_vectors", path), vectorShapes, "power_vectors", path);
  return checkpoint;
}

std::string historyJson(const TrainingProgress &progress, const std::string &monitor) {
  Json history = Json::array();
  for (const EpochRecord &record : progress.history)
    history.push_back(recordJson(record));
  Json json{{"monitor", monitor},
            {"best_epoch", progress.bestEpoch},
            {"best_value", std::isfinite(progress.bestValue) ? Json(progress.bestValue) : Json(nullptr)},
            {"stopped_early", progress.stoppedEarly},
            {"epochs", history}};
  return json.dump(2) + "\n";
}

} // namespace seqjit
