// kill -9 at any moment of a sweep, then --resume: the results hold every case exactly once, the
// journal is gone, and a results file is never seen half-written (DESIGN §5, issue 7). The
// sweep runs as a real `moetune sweep` child process, killed with SIGKILL, so nothing of the
// program gets a chance to clean up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/results.h"
#include "harness/sweep_config.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 12 cases of a toy shape (gemv naive in both layouts, two layer strategies, 2 token counts),
// each a few hundredths of a second: long enough for the test to land kills between cases,
// short enough that a run takes seconds even under the sanitizers.
const std::string kSweep = std::string("name: resume\n") + test::kToySweepShapes + R"(tokens: [1, 2]
threads: [1]
ops: [gemv, layer]
variants:
  gemv: [gemv_f32_oi__naive, gemv_f32_io__naive]
  layer: [layer_f32__naive, layer_f32__expert_parallel]
layout: [oi, io]
repetitions: 3
max_repetitions: 3
min_time: 0.01
seed: 3
)";
constexpr int kRepetitions = 3;
// Generous: a sweep run here takes seconds, but the machine may be busy and the build
// sanitized; reaching this is a hang, not slowness.
constexpr auto kDeadline = std::chrono::seconds(300);

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Complete journal lines: each is written with one write() ending in '\n', so a torn last
// line is not counted.
size_t journal_lines(const fs::path& p) {
  const std::string text = read_text(p);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sweep_ = dir_.path() / "resume.yaml";
    out_ = dir_.path() / "out.json";
    journal_ = journal_path(out_.string());
    log_ = dir_.path() / "sweep.log";
    std::ofstream(sweep_) << kSweep;
  }

  // Starts `moetune sweep` on the sweep file with its output and log in the test's directory.
  pid_t start(bool resume) {
    std::vector<std::string> args = {MOETUNE_BINARY, "sweep",        sweep_.string(), "-o",
                                     out_.string(),  "--no-progress"};
    if (resume) args.push_back("--resume");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = log_.string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec: the parent may have threads.
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  // Waits for `pid` and returns its wait status.
  static int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }

  // SIGKILLs `pid` as soon as `ready()` holds. Returns true when it was killed that way; false
  // when it ended on its own first (its status in *status).
  static bool kill_when(pid_t pid, const std::function<bool()>& ready, int* status) {
    const auto deadline = Clock::now() + kDeadline;
    while (Clock::now() < deadline) {
      if (ready()) {
        ::kill(pid, SIGKILL);
        *status = reap(pid);
        return WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
      }
      if (::waitpid(pid, status, WNOHANG) == pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    *status = reap(pid);
    ADD_FAILURE() << "the sweep neither reached the kill point nor ended within the deadline";
    return false;
  }

  // A results file is either absent or a complete, valid results file: never a part of one.
  void expect_results_absent_or_whole(const std::string& moment) {
    if (!fs::exists(out_)) return;
    EXPECT_NO_THROW(read_results(out_.string()))
        << "after a kill " << moment << ", " << out_ << " exists but does not parse";
  }

  std::string log_text() const { return read_text(log_); }

  test::TempDir dir_{"moetune_resume"};
  fs::path sweep_, out_, journal_, log_;
};

TEST_F(ResumeTest, KillNineAtSeveralMomentsThenResumeGivesEveryCaseExactlyOnce) {
  int status = 0;

  // 1. Very early: while the program starts up and measures the roofline, before any case.
  {
    const pid_t pid = start(false);
    const auto t0 = Clock::now();
    const bool killed = kill_when(
        pid, [&] { return Clock::now() - t0 > std::chrono::milliseconds(50); }, &status);
    ASSERT_TRUE(killed) << "the whole sweep finished within 50 ms?\n" << log_text();
    expect_results_absent_or_whole("at start-up");
    EXPECT_FALSE(fs::exists(out_));
  }

  // 2. Once the first case is journaled. --resume also starts a sweep that left no journal.
  size_t lines = 0;
  {
    const pid_t pid = start(true);
    const bool killed = kill_when(
        pid, [&] { return fs::exists(journal_) && journal_lines(journal_) >= 1; }, &status);
    ASSERT_TRUE(killed) << "the sweep ended before its first case was journaled\n" << log_text();
    expect_results_absent_or_whole("after the first case");
    ASSERT_TRUE(fs::exists(journal_));
    lines = journal_lines(journal_);
    EXPECT_GE(lines, 1u);
  }

  // 3. Mid-way through the resumed run, once two more cases are journaled.
  {
    const pid_t pid = start(true);
    const size_t target = lines + 2;
    const bool killed = kill_when(pid, [&] { return journal_lines(journal_) >= target; }, &status);
    ASSERT_TRUE(killed) << "the resumed sweep ended before journaling two more cases\n"
                        << log_text();
    expect_results_absent_or_whole("mid-way");
    EXPECT_GE(journal_lines(journal_), target);
  }

  // 4. --resume to completion.
  {
    const pid_t pid = start(true);
    status = reap(pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "moetune sweep --resume failed (status " << status << ")\n"
        << log_text();
  }
  EXPECT_FALSE(fs::exists(journal_)) << "the journal outlived the finished sweep";
  ASSERT_TRUE(fs::exists(out_));

  // Every case of the sweep exactly once: one results entry per case, and in the raw file
  // exactly `repetitions` iteration entries per case (a case measured both before a kill and
  // after the resume would show twice as many).
  std::set<std::string> expected;
  for (const auto& c : expand(parse_sweep(kSweep, "resume.yaml"))) expected.insert(c.id);
  ASSERT_EQ(expected.size(), 12u);

  const ResultsFile results = read_results(out_.string());
  std::multiset<std::string> got;
  for (const auto& c : results.cases) {
    got.insert(c.name);
    EXPECT_TRUE(c.verified) << c.name << ": " << c.error;
  }
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);
  EXPECT_EQ(got.size(), expected.size()) << "a case appears more than once";

  const nlohmann::json raw = nlohmann::json::parse(read_text(out_));
  std::map<std::string, int> iterations;
  for (const auto& e : raw.at("benchmarks"))
    if (e.at("run_type") == "iteration") ++iterations[e.at("run_name").get<std::string>()];
  ASSERT_EQ(iterations.size(), expected.size());
  for (const auto& [name, n] : iterations) {
    EXPECT_TRUE(expected.count(name)) << name;
    EXPECT_EQ(n, kRepetitions) << name;
  }
}

TEST_F(ResumeTest, AnExistingJournalWithoutResumeExitsTwoAndWritesNothing) {
  // What a run killed during its first case leaves: an empty journal, and here an older
  // results file from before, which must survive untouched.
  const std::string old_results = "an earlier results file, not ours to replace";
  std::ofstream(out_) << old_results;
  std::ofstream(journal_).flush();

  const pid_t pid = start(false);
  const int status = reap(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 2) << log_text();
  EXPECT_NE(log_text().find("--resume"), std::string::npos)
      << "the message should say how to go on:\n"
      << log_text();
  EXPECT_EQ(read_text(out_), old_results);
  EXPECT_TRUE(fs::exists(journal_));
  EXPECT_EQ(fs::file_size(journal_), 0u);
  // Nothing else written next to them (no temporary file left behind either).
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_.path()))
    files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"resume.yaml", "out.json", "out.json.journal",
                                          "sweep.log"}));
}

}  // namespace
}  // namespace moetune
