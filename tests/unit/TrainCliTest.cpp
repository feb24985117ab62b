// seqjit train, evaluate and predict run as a user runs them: a run killed with SIGKILL mid-epoch and resumed ends
// with the same weights and history as an uninterrupted one; the trained weights evaluate and predict consistently;
// data mistakes give one clear error line.
#include "CliRunner.h"
#include "PlantedMotif.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "runtime/Zip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace seqjit {
namespace {

namespace fs = std::filesystem;
using testing::expectOneError;
using ::testing::HasSubstr;
using testing::RunResult;
using testing::runSeqjit;

class TrainCliTest : public testing::SeqjitDirectoryTest {
protected:
  TrainCliTest() : SeqjitDirectoryTest("seqjit-train-cli") {}
  void SetUp() override {
    SeqjitDirectoryTest::SetUp();
    std::vector<Hdf5Array> arrays;
    uint64_t seed = 1;
    for (auto [split, count] : {std::pair{"train", 600}, std::pair{"valid", 200}, std::pair{"test", 200}}) {
      auto [x, y] = testing::plantedMotif(count, 200, seed++);
      arrays.push_back({std::string("X_") + split, x});
      arrays.push_back({std::string("Y_") + split, y, Hdf5Storage::Int8});
    }
    writeHdf5File(path("data.h5"), arrays);
  }
};

const std::string kTrain = "train cnn-local --activation exp --data data.h5 --epochs 6 --seed 3 --threads 1 "
                           "--augment rc,mixup=0.2 --plateau factor=0.5,patience=1";

/// The bytes of entry `name` of a ZIP archive.
std::string readZipEntry(const std::string &archive, const std::string &name) {
  for (const ZipEntry &entry : readZipArchive(archive))
    if (entry.name == name)
      return entry.bytes;
  return {};
}

/// The epochs of a run's history.json without their timings.
nlohmann::json epochsWithoutTimes(const std::string &historyPath) {
  nlohmann::json history = nlohmann::json::parse(std::ifstream(historyPath));
  nlohmann::json epochs = history.at("epochs");
  for (auto &epoch : epochs)
    epoch.erase("seconds");
  return epochs;
}

TEST_F(TrainCliTest, KilledAndResumedRunEqualsTheUninterruptedOne) {
  RunResult whole = run(kTrain + " --out whole");
  ASSERT_EQ(whole.exitCode, 0) << whole.output;
  EXPECT_THAT(whole.output, HasSubstr("epoch   6/6"));
  EXPECT_THAT(whole.output, HasSubstr("test: loss"));

  // The same run, killed with SIGKILL some time into epoch 2 (after the first checkpoint), then resumed.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Its own process group, so that the kill reaches seqjit and not only the shell that starts it.
    setpgid(0, 0);
    std::string command = testing::seqjitCommand(directory_, kTrain + " --out killed") + " > /dev/null";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  setpgid(child, child);
  std::string checkpoint = path("killed/checkpoint.seqjit");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(checkpoint) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(checkpoint)) << "no checkpoint after two minutes";
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  kill(-child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed: make it longer";
  nlohmann::json record = nlohmann::json::parse(readZipEntry(checkpoint, "checkpoint.json"));
  EXPECT_GE(record.at("progress").at("epochs_done").get<int>(), 1) << "the killed run kept its finished epochs";
  EXPECT_LT(record.at("progress").at("epochs_done").get<int>(), 6);
  EXPECT_TRUE(fs::exists(path("killed/history.json"))) << "the history is written after every epoch";
  EXPECT_FALSE(fs::exists(path("killed/weights.npz"))) << "the killed run did not finish";

  RunResult resumed = run(kTrain + " --out killed --resume");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resuming from"));
  EXPECT_THAT(resumed.output, ::testing::Not(HasSubstr("epoch   1/6"))) << "epoch 1 came from the checkpoint";

  auto a = readNpz(path("whole/weights.npz")), b = readNpz(path("killed/weights.npz"));
  ASSERT_EQ(a.size(), b.size());
  for (const auto &[name, array] : a)
    EXPECT_TRUE(array.data == b.at(name).data) << name << " differs from the uninterrupted run";
  EXPECT_EQ(epochsWithoutTimes(path("whole/history.json")), epochsWithoutTimes(path("killed/history.json")));

  // A resume with different settings is refused, naming them.
  std::string otherSeed = kTrain;
  otherSeed.replace(otherSeed.find("--seed 3"), 8, "--seed 4");
  expectOneError(run(otherSeed + " --out killed --resume"), {"different run", "seed", "'3'", "'4'"});
}

TEST_F(TrainCliTest, TrainedWeightsEvaluateAndPredictConsistently) {
  RunResult trained = run("train cnn-local --activation exp --data data.h5 --epochs 2 --threads 1 --out run");
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  nlohmann::json test = nlohmann::json::parse(std::ifstream(path("run/test_metrics.json")));

  RunResult evaluated = run("evaluate cnn-local --activation exp --weights run/weights.npz --data data.h5 "
                            "--out metrics.json");
  ASSERT_EQ(evaluated.exitCode, 0) << evaluated.output;
  nlohmann::json metrics = nlohmann::json::parse(std::ifstream(path("metrics.json")));
  EXPECT_DOUBLE_EQ(metrics.at("auroc").at("mean").get<double>(), test.at("auroc").get<double>());
  EXPECT_DOUBLE_EQ(metrics.at("loss").get<double>(), test.at("loss").get<double>());

  // Predictions of the test sequences from .npy and from FASTA (written from the same sequences) agree.
  HostArray<float> x = readHdf5Dataset(path("data.h5"), "X_test");
  writeNpy(path("x.npy"), x);
  std::ofstream fasta(path("x.fa"));
  for (int64_t i = 0; i < x.shape[0]; ++i) {
    fasta << ">seq" << i << "\n";
    for (int64_t position = 0; position < 200; ++position)
      for (int64_t base = 0; base < 4; ++base)
        if (x.data[(i * 4 + base) * 200 + position] == 1.0f)
          fasta << "ACGT"[base];
    fasta << "\n";
  }
  fasta.close();
  // And from BED intervals on a reference made of the same sequences end to end (BED6: name, score, strand ignored).
  std::ifstream fastaIn(path("x.fa"));
  std::string reference = ">chrT\n", bed, header, sequence;
  for (int64_t i = 0; std::getline(fastaIn, header) && std::getline(fastaIn, sequence); ++i) {
    reference += sequence;
    bed += fmt::format("chrT\t{}\t{}\tseq{}\t0\t+\n", i * 200, (i + 1) * 200, i);
  }
  std::ofstream(path("genome.fa")) << reference << "\n";
  std::ofstream(path("x.bed")) << bed;
  ASSERT_EQ(run("predict cnn-local --activation exp --weights run/weights.npz --input x.npy --out p.npy").exitCode, 0);
  RunResult tsv = run("predict cnn-local --activation exp --weights run/weights.npz --input x.fa --out p.tsv");
  ASSERT_EQ(tsv.exitCode, 0) << tsv.output;
  RunResult fromBed = run("predict cnn-local --activation exp --weights run/weights.npz --input x.bed --reference "
                          "genome.fa --out b.npy");
  ASSERT_EQ(fromBed.exitCode, 0) << fromBed.output;
  HostArray<float> fromNpy = readNpy<float>(path("p.npy"));
  EXPECT_EQ(readNpy<float>(path("b.npy")).data, fromNpy.data);
  ASSERT_EQ(fromNpy.shape, (std::vector<int64_t>{200, 1}));
  std::ifstream table(path("p.tsv"));
  std::string line;
  std::getline(table, line);
  EXPECT_EQ(line, "name\toutput_0");
  for (int64_t i = 0; i < 200 && std::getline(table, line); ++i) {
    EXPECT_EQ(line.substr(0, line.find('\t')), "seq" + std::to_string(i));
    EXPECT_NEAR(std::stod(line.substr(line.find('\t') + 1)), fromNpy.data[i], 1e-5);
    EXPECT_GE(fromNpy.data[i], 0.0f); // probabilities
    EXPECT_LE(fromNpy.data[i], 1.0f);
  }
}

TEST_F(TrainCliTest, DataMistakesGiveOneClearError) {
  writeHdf5File(path("novalid.h5"), {{"X_train", randomOneHot(10, 200, 1)},
                                     {"X_valid", randomOneHot(5, 200, 2)},
                                     {"Y_train", HostArray<float>({10, 1})}});
  expectOneError(run("train cnn-local --data novalid.h5 --out r"), {"novalid.h5", "Y_valid", "X_train"});
  writeHdf5File(path("mismatch.h5"), {{"X_train", randomOneHot(10, 200, 1)}, {"Y_train", HostArray<float>({9, 1})}});
  expectOneError(run("train cnn-local --data mismatch.h5 --out r"), {"mismatch.h5", "10 examples", "9"});
  std::ofstream(path("s.fa")) << ">a\nACGT\n";
  expectOneError(run("train cnn-local --train s.fa --out r"), {"s.fa", "--train-labels"});
  expectOneError(run("train cnn-local --train s.BED --out r"), {"s.BED", "BED", "--reference"});
  expectOneError(run("train cnn-local --data data.h5 --train s.fa --out r"), {"either --data or --train"});
  expectOneError(run("train cnn-local --data data.h5 --out r --resume"), {"no checkpoint", "r/checkpoint.seqjit"});
  fs::create_directories(path("old"));
  std::ofstream(path("old/checkpoint.seqjit")) << "x";
  expectOneError(run("train cnn-local --data data.h5 --out old"), {"already holds", "--resume"});
  expectOneError(run("train cnn-local --data data.h5 --out old --resume --weights w.npz"), {"--weights"});
  expectOneError(run("train cnn-local --data data.h5 --out r --augment rc,flip"), {"--augment", "flip"});
  expectOneError(run("train cnn-local --data data.h5 --out r --recipe slow"), {"--recipe", "slow"});
  expectOneError(run("train cnn-local --data data.h5 --out r --init he --weights w.npz"), {"--init he", "--weights"});
  expectOneError(run("train cnn-local --data data.h5 --out bad-init --init lecun"), {"--init", "lecun"});
  EXPECT_FALSE(fs::exists(path("bad-init"))) << "a refused option must not leave a run directory behind";
  expectOneError(run("predict cnn-local --weights w.npz --input x.fa --out p.csv"), {"p.csv", ".tsv or .npy"});
}

} // namespace
} // namespace seqjit
