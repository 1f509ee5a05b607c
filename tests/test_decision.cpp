// The decision rule (harness/decision.h) on synthetic timings whose truth is known: how often
// it picks a variant that is not faster (A/A), whether three sweeps agree where a variant wins
// clearly, and the adaptive loop the sweep runs (the same schedule and rule).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "harness/decision.h"

namespace moetune {
namespace {

// How the synthetic machine misbehaves.
struct Machine {
  double cv_lo = 0.02, cv_hi = 0.10;  // per point: the noise of every variant (lognormal sigma)
  double outlier_rate = 0.05;          // a repetition stalls this often...
  double outlier_lo = 1.5, outlier_hi = 6;  // ...and takes this many times longer
  double drift = 0.15;  // the whole machine slows by up to this much, slowly, over the sweep
};

struct Simulated {
  Decision decision;
  int repetitions = 0;  // per variant, at the end
  std::vector<CaseResult> cases;
};

// One point as the sweep measures it: `truth` the median time of each variant (the default
// first), repetitions added round after round in random order (Google Benchmark's random
// interleaving), each round the rule asked whether the point is settled.
Simulated simulate_point(const std::vector<double>& truth, const Machine& m, std::mt19937_64& rng,
                         double& clock, int min_reps = 5, int max_reps = 40) {
  const std::vector<int> schedule = repetition_schedule(min_reps, max_reps);
  DecisionRule rule;
  rule.looks = static_cast<int>(schedule.size());
  std::uniform_real_distribution<double> unit(0, 1);
  const double cv = m.cv_lo + (m.cv_hi - m.cv_lo) * unit(rng);
  std::normal_distribution<double> noise(0, cv);
  Simulated s;
  s.cases.resize(truth.size());
  for (size_t v = 0; v < truth.size(); ++v) {
    CaseResult& c = s.cases[v];
    c.op = "gemv";
    c.variant = "v" + std::to_string(v);
    c.verified = true;
  }
  int done = 0;
  for (size_t look = 0; look < schedule.size(); ++look) {
    std::vector<size_t> order;
    for (size_t v = 0; v < truth.size(); ++v)
      for (int r = done; r < schedule[look]; ++r) order.push_back(v);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t v : order) {
      clock += 1;
      const double slow = 1 + m.drift * 0.5 * (1 + std::sin(clock / 40));
      double t = truth[v] * slow * std::exp(noise(rng));
      if (unit(rng) < m.outlier_rate) t *= m.outlier_lo + (m.outlier_hi - m.outlier_lo) * unit(rng);
      Repetition rep;
      rep.real_time = rep.cpu_time = t;
      rep.iterations = 100;
      s.cases[v].repetitions.push_back(rep);
    }
    done = schedule[look];
    std::vector<const CaseResult*> point;
    for (const auto& c : s.cases) point.push_back(&c);
    s.decision = decide_point(point, "v0", Activations::kExact, rule);
    s.repetitions = done;
    if (settled(s.decision)) break;
  }
  // The tuner decides on the final repetitions with the same rule (and the same looks).
  std::vector<const CaseResult*> point;
  for (const auto& c : s.cases) point.push_back(&c);
  s.decision = decide_point(point, "v0", Activations::kExact, rule);
  return s;
}

std::string chosen(const Simulated& s) {
  return s.decision.winner ? s.decision.winner->variant : "v0";
}

// README "How the tuner decides" quotes the rate this prints.
TEST(Decision, AaPointsChooseANonDefaultVariantAtMostFivePercentOfTheTime) {
  std::mt19937_64 rng(20261202);
  const Machine busy;
  const int points = 400;
  int false_positive = 0;
  double clock = 0;
  for (int i = 0; i < points; ++i) {
    const int variants = 2 + i % 6;  // the default and 1..6 others, all equally fast
    const std::vector<double> truth(variants, 1000.0);
    false_positive += chosen(simulate_point(truth, busy, rng, clock)) != "v0";
  }
  const double rate = double(false_positive) / points;
  std::printf("A/A: %d of %d points (%.1f%%) chose a variant other than the default\n",
              false_positive, points, 100 * rate);
  EXPECT_LE(rate, 0.05);
}

// The example: a default with cv 23% is beaten by a candidate 6x faster at cv 7%.
TEST(Decision, ANoisyDefaultDoesNotHideASixfoldWin) {
  std::mt19937_64 rng(7);
  Machine m;
  m.cv_lo = m.cv_hi = 0.23;
  double clock = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const Simulated s = simulate_point({321, 51.6, 400}, m, rng, clock);
    EXPECT_EQ(chosen(s), "v1") << s.decision.reason;
  }
}

// Three sweeps of the same 40 points on a noisy, drifting machine with stalls choose the same
// variant at every point where one is at least 10% faster than every other, and that variant
// is the truly fastest; where the differences are small they may differ.
TEST(Decision, ThreeSweepsAgreeWhereAVariantWinsByTenPercent) {
  std::mt19937_64 truth_rng(40);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::vector<double>> points;
  std::vector<int> clear_winner;  // index of the variant >= 10% faster than all others, or -1
  for (int i = 0; i < 40; ++i) {
    const int variants = 2 + i % 5;
    std::vector<double> truth(variants);
    for (auto& t : truth) t = 1000 * (1 + 0.5 * unit(truth_rng));
    if (i % 3 != 2) {  // two points in three have a clear winner, which may be the default
      const int w = static_cast<int>(unit(truth_rng) * variants);
      const double others = *std::min_element(truth.begin(), truth.end());
      truth[w] = others / (1.10 + 0.4 * unit(truth_rng));
      clear_winner.push_back(w);
    } else {  // the rest: near ties within 3%
      for (auto& t : truth) t = 1000 * (1 + 0.03 * unit(truth_rng));
      clear_winner.push_back(-1);
    }
    points.push_back(truth);
  }
  Machine m;  // cv 2-10%, 5% stalls of 1.5-6x, 15% drift
  std::vector<std::vector<std::string>> runs(3);
  for (int run = 0; run < 3; ++run) {
    std::mt19937_64 rng(1000 + run);
    double clock = 0;
    for (const auto& truth : points) runs[run].push_back(chosen(simulate_point(truth, m, rng, clock)));
  }
  int agree = 0, clear = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const bool same = runs[0][i] == runs[1][i] && runs[1][i] == runs[2][i];
    agree += same;
    if (clear_winner[i] < 0) continue;
    ++clear;
    const std::string truth = "v" + std::to_string(clear_winner[i]);
    for (int run = 0; run < 3; ++run)
      EXPECT_EQ(runs[run][i], truth) << "point " << i << ", sweep " << run;
  }
  std::printf("three sweeps: the same choice at %d of %zu points; at all %d with a clear winner\n",
              agree, points.size(), clear);
}

TEST(Decision, VerdictsOnKnownData) {
  auto make = [](const std::string& name, std::vector<double> times) {
    CaseResult c;
    c.op = "gemv";
    c.variant = name;
    c.verified = true;
    for (double t : times) c.repetitions.push_back({t, t, 1, 0, 0, 0});
    return c;
  };
  DecisionRule rule;
  const CaseResult def = make("d", {100, 101, 99, 100, 102, 98, 100, 101, 99, 100});
  // Equivalent: the other within 1%, tightly.
  const CaseResult same = make("s", {100.5, 101, 100, 100, 101, 99, 100, 101, 100, 100});
  Decision d = decide_point({&def, &same}, "d", Activations::kExact, rule);
  EXPECT_EQ(d.verdict, Verdict::kEquivalent) << d.reason;
  EXPECT_EQ(d.winner, nullptr);
  // Default fastest: every other clearly slower.
  const CaseResult slow = make("x", {150, 151, 149, 150, 152, 148, 150, 151, 149, 150});
  d = decide_point({&def, &slow}, "d", Activations::kExact, rule);
  EXPECT_EQ(d.verdict, Verdict::kDefaultFastest) << d.reason;
  // Faster: the fastest significant one wins, not the first.
  const CaseResult f1 = make("f1", {80, 81, 79, 80, 82, 78, 80, 81, 79, 80});
  const CaseResult f2 = make("f2", {60, 61, 59, 60, 62, 58, 60, 61, 59, 60});
  d = decide_point({&def, &f1, &f2, &slow}, "d", Activations::kExact, rule);
  EXPECT_EQ(d.verdict, Verdict::kFaster);
  ASSERT_NE(d.winner, nullptr);
  EXPECT_EQ(d.winner->variant, "f2");
  EXPECT_EQ(d.eligible, 3);
  EXPECT_DOUBLE_EQ(d.test_alpha, 0.05 / 3);
  // Undecided: wide noise around a 5% difference.
  const CaseResult wide = make("w", {70, 130, 90, 110, 80, 120, 95, 105, 85, 115});
  d = decide_point({&def, &wide}, "d", Activations::kExact, rule);
  EXPECT_EQ(d.verdict, Verdict::kUndecided) << d.reason;
  // No default: nothing to decide against.
  d = decide_point({&f1, &f2}, "d", Activations::kExact, rule);
  EXPECT_EQ(d.verdict, Verdict::kNoDefault);
  EXPECT_NE(d.reason.find("not measured"), std::string::npos) << d.reason;
}

TEST(Decision, ScheduleDoublesUpToTheMaximum) {
  EXPECT_EQ(repetition_schedule(5, 40), (std::vector<int>{5, 10, 20, 40}));
  EXPECT_EQ(repetition_schedule(5, 30), (std::vector<int>{5, 10, 20, 30}));
  EXPECT_EQ(repetition_schedule(5, 5), (std::vector<int>{5}));
  EXPECT_EQ(repetition_schedule(3, 4), (std::vector<int>{3, 4}));
}

}  // namespace
}  // namespace moetune
