#include "harness/results.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "harness/error.h"
#include "harness/stats.h"

namespace moetune {
namespace {

using nlohmann::json;

std::string errno_text() { return std::strerror(errno); }

json identity(const CaseResult& c) {
  json j = {{"op", c.op},
            {"variant", c.variant},
            {"dtype", c.dtype},
            {"layout", c.layout},
            {"tokens", c.tokens},
            {"hidden", c.shape.hidden},
            {"intermediate", c.shape.intermediate},
            {"experts", c.shape.experts},
            {"top_k", c.shape.top_k},
            {"shared_intermediate", c.shape.shared_intermediate},
            {"norm_topk_prob", c.shape.norm_topk_prob},
            {"verified", c.verified}};
  if (c.rows) j["rows"] = *c.rows;
  if (c.cols) j["cols"] = *c.cols;
  if (c.allocs_per_call) j["allocs_per_call"] = *c.allocs_per_call;
  if (c.heap_bytes_per_call) j["heap_bytes_per_call"] = *c.heap_bytes_per_call;
  if (c.workspace_bytes) j["workspace_bytes"] = *c.workspace_bytes;
  if (c.rel_error_vs_f32) j["rel_error_vs_f32"] = *c.rel_error_vs_f32;
  if (c.activations) j["activations"] = *c.activations;
  if (c.kernels) j["kernels"] = *c.kernels;
  if (c.point_run) {
    const PointRun& p = *c.point_run;
    j["adaptive_looks"] = p.looks;
    j["adaptive_stopped"] = p.stopped;
    j["point_seconds"] = p.seconds;
    j["load_1m_before"] = p.load_1m_before;
    j["load_1m_after"] = p.load_1m_after;
    j["others_runnable_before"] = p.others_runnable_before;
    j["others_runnable_after"] = p.others_runnable_after;
  }
  return j;
}

json entry_head(const CaseResult& c, const std::string& name, const char* run_type) {
  // Key order follows Google Benchmark's JSON reporter; identity fields come after.
  json j = {{"name", name},
            {"run_name", c.name},
            {"run_type", run_type},
            {"repetitions", static_cast<int64_t>(std::max<size_t>(c.repetitions.size(), 1))},
            {"threads", c.threads}};
  return j;
}

void add(json& to, const json& from) {
  for (auto it = from.begin(); it != from.end(); ++it) to[it.key()] = it.value();
}

// Reads the fields of one entry; every error names the file and the entry.
class Entry {
 public:
  Entry(const json& e, const std::string& file, std::string where)
      : e_(e), file_(file), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(file_, where_, message);
  }
  const json& field(const char* key) const {
    const auto it = e_.find(key);
    if (it == e_.end()) fail(std::string("missing field '") + key + "'");
    return *it;
  }
  bool has(const char* key) const { return e_.contains(key) && !e_.at(key).is_null(); }
  std::string str(const char* key) const {
    const json& v = field(key);
    if (!v.is_string()) fail(std::string("field '") + key + "' must be a string");
    return v.get<std::string>();
  }
  int64_t integer(const char* key, int64_t lo) const {
    const json& v = field(key);
    if (!v.is_number_integer()) fail(std::string("field '") + key + "' must be an integer");
    const int64_t x = v.get<int64_t>();
    if (x < lo) fail(std::string("field '") + key + "' must be at least " + std::to_string(lo));
    return x;
  }
  double number(const char* key) const {
    const json& v = field(key);
    if (!v.is_number()) fail(std::string("field '") + key + "' must be a number");
    const double x = v.get<double>();
    if (!(x >= 0)) fail(std::string("field '") + key + "' must not be negative");
    return x;
  }
  bool boolean(const char* key) const {
    const json& v = field(key);
    if (!v.is_boolean()) fail(std::string("field '") + key + "' must be true or false");
    return v.get<bool>();
  }

 private:
  const json& e_;
  const std::string& file_;
  std::string where_;
};

CaseResult read_identity(const Entry& e, const std::string& name) {
  CaseResult c;
  c.name = name;
  c.op = e.str("op");
  if (c.op.empty()) e.fail("field 'op' must not be empty");
  c.variant = e.str("variant");
  if (c.variant.empty()) e.fail("field 'variant' must not be empty");
  c.dtype = e.str("dtype");
  c.layout = e.str("layout");
  if (c.layout != "oi" && c.layout != "io" && c.layout != "any")
    e.fail("field 'layout' must be oi, io or any, got '" + c.layout + "'");
  c.tokens = e.integer("tokens", 1);
  c.threads = static_cast<int>(e.integer("threads", 1));
  c.shape.hidden = e.integer("hidden", 1);
  c.shape.intermediate = e.integer("intermediate", 1);
  c.shape.experts = e.integer("experts", 1);
  c.shape.top_k = e.integer("top_k", 1);
  c.shape.shared_intermediate = e.integer("shared_intermediate", 0);
  if (e.has("norm_topk_prob")) c.shape.norm_topk_prob = e.boolean("norm_topk_prob");
  const std::string problem = c.shape.validate();
  if (!problem.empty()) e.fail(problem);
  c.verified = e.boolean("verified");
  if (e.has("rows")) c.rows = e.integer("rows", 1);
  if (e.has("cols")) c.cols = e.integer("cols", 1);
  if (e.has("allocs_per_call")) c.allocs_per_call = e.number("allocs_per_call");
  if (e.has("heap_bytes_per_call")) c.heap_bytes_per_call = e.number("heap_bytes_per_call");
  if (e.has("workspace_bytes")) c.workspace_bytes = e.number("workspace_bytes");
  if (e.has("rel_error_vs_f32")) c.rel_error_vs_f32 = e.number("rel_error_vs_f32");
  if (e.has("activations")) c.activations = e.str("activations");
  if (e.has("kernels")) c.kernels = e.str("kernels");
  if (e.has("adaptive_stopped")) {
    PointRun p;
    p.stopped = e.str("adaptive_stopped");
    p.looks = static_cast<int>(e.integer("adaptive_looks", 1));
    p.seconds = e.number("point_seconds");
    p.load_1m_before = e.number("load_1m_before");
    p.load_1m_after = e.number("load_1m_after");
    p.others_runnable_before = static_cast<int>(e.integer("others_runnable_before", -1));
    p.others_runnable_after = static_cast<int>(e.integer("others_runnable_after", -1));
    c.point_run = p;
  }
  return c;
}

bool same_case(const CaseResult& a, const CaseResult& b) {
  return a.op == b.op && a.variant == b.variant && a.dtype == b.dtype && a.layout == b.layout &&
         a.tokens == b.tokens && a.threads == b.threads && a.shape == b.shape &&
         a.verified == b.verified;
}

// Reads the entries of `list` into cases, in the order the cases first appear.
std::vector<CaseResult> read_entries(const json& list, const std::string& file,
                                     const std::string& where_prefix) {
  if (!list.is_array()) throw InputError(file, where_prefix, "expected a list of benchmarks");
  std::vector<CaseResult> cases;
  std::map<std::string, size_t> index;
  std::map<std::string, std::vector<std::pair<int64_t, Repetition>>> reps;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    std::string where = where_prefix + "[" + std::to_string(i) + "]";
    if (!e.is_object()) throw InputError(file, where, "expected an object");
    if (e.contains("name") && e["name"].is_string())
      where += " (" + e["name"].get<std::string>() + ")";
    const Entry entry(e, file, where);
    const std::string name = entry.str("name");
    const std::string run_type = entry.str("run_type");
    if (run_type == "aggregate") continue;  // recomputed from the repetitions
    if (run_type != "iteration")
      entry.fail("field 'run_type' must be iteration or aggregate, got '" + run_type + "'");
    const std::string key = entry.has("run_name") ? entry.str("run_name") : name;
    CaseResult c = read_identity(entry, key);
    const bool failed = entry.has("error_occurred") && entry.boolean("error_occurred");
    if (failed) {
      c.error = entry.has("error")           ? entry.str("error")
                : entry.has("error_message") ? entry.str("error_message")
                                             : std::string();
      if (c.error.empty()) c.error = "failed";
      c.verified = false;
    }
    c.time_unit = entry.str("time_unit");
    if (nanoseconds_per(c.time_unit) == 0)
      entry.fail("field 'time_unit' must be ns, us, ms or s, got '" + c.time_unit + "'");
    const auto found = index.find(key);
    if (found != index.end()) {
      const CaseResult& first = cases[found->second];
      if (failed || first.failed()) entry.fail("a failed case has exactly one entry");
      if (!same_case(first, c) || first.time_unit != c.time_unit)
        entry.fail("this repetition of '" + key + "' disagrees with its first one");
    } else {
      index.emplace(key, cases.size());
      cases.push_back(c);
    }
    if (failed) continue;
    Repetition r;
    r.real_time = entry.number("real_time");
    r.cpu_time = entry.number("cpu_time");
    r.iterations = entry.integer("iterations", 1);
    if (entry.has("roofline_pct"))
      r.roofline_pct = entry.number("roofline_pct");
    else
      cases[index.at(key)].has_roofline = false;
    if (entry.has("bytes_per_second")) r.bytes_per_second = entry.number("bytes_per_second");
    if (entry.has("flops_per_second")) r.flops_per_second = entry.number("flops_per_second");
    const int64_t rep_index = entry.has("repetition_index")
                                  ? entry.integer("repetition_index", 0)
                                  : static_cast<int64_t>(reps[key].size());
    for (const auto& [seen, _] : reps[key])
      if (seen == rep_index) entry.fail("repetition_index " + std::to_string(rep_index) + " twice");
    reps[key].push_back({rep_index, r});
  }
  for (auto& c : cases) {
    auto& list_of = reps[c.name];
    std::sort(list_of.begin(), list_of.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [_, r] : list_of) c.repetitions.push_back(r);
  }
  return cases;
}

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", std::string("cannot read the ") + what + ": " + errno_text());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::vector<double> CaseResult::real_times_ns() const {
  const double f = nanoseconds_per(time_unit);
  std::vector<double> t;
  for (const auto& r : repetitions) t.push_back(r.real_time * f);
  return t;
}

std::optional<Point> CaseResult::point() const {
  const auto o = parse_op(op);
  const auto d = parse_dtype(dtype);
  if (!o || !d) return std::nullopt;
  Point p{*o, shape, *d, std::nullopt, tokens, threads};
  if (layout != "any" && !(p.layout = parse_layout(layout))) return std::nullopt;
  if (!point_problem(p).empty()) return std::nullopt;
  return p;
}

std::string point_id(const CaseResult& c) {
  if (const auto p = c.point()) return p->id();
  return c.op + "/" + c.shape.key() + "/" + c.dtype + "/" + c.layout +
         "/tokens:" + std::to_string(c.tokens) + "/threads:" + std::to_string(c.threads);
}

std::string case_id(const CaseResult& c) {
  if (const auto p = c.point()) return p->case_id(c.variant);
  const std::string point = point_id(c);
  return c.op + "/" + c.variant + point.substr(c.op.size());
}

double nanoseconds_per(const std::string& unit) {
  if (unit == "ns") return 1;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  return 0;
}

std::vector<json> case_entries(const CaseResult& c) {
  std::vector<json> out;
  const json id = identity(c);
  if (c.failed() || c.repetitions.empty()) {
    json j = entry_head(c, c.name, "iteration");
    j["repetition_index"] = 0;
    j["iterations"] = 0;
    j["real_time"] = 0.0;
    j["cpu_time"] = 0.0;
    j["time_unit"] = c.time_unit;
    j["error_occurred"] = true;
    j["error_message"] = c.failed() ? c.error : "no repetitions";
    add(j, id);
    j["verified"] = false;
    j["error"] = j["error_message"];
    out.push_back(j);
    return out;
  }
  for (size_t i = 0; i < c.repetitions.size(); ++i) {
    const Repetition& r = c.repetitions[i];
    json j = entry_head(c, c.name, "iteration");
    j["repetition_index"] = static_cast<int64_t>(i);
    j["iterations"] = r.iterations;
    j["real_time"] = r.real_time;
    j["cpu_time"] = r.cpu_time;
    j["time_unit"] = c.time_unit;
    add(j, id);
    if (c.has_roofline) j["roofline_pct"] = r.roofline_pct;
    j["bytes_per_second"] = r.bytes_per_second;
    j["flops_per_second"] = r.flops_per_second;
    out.push_back(j);
  }
  auto column = [&](double Repetition::*field) {
    std::vector<double> v;
    for (const auto& r : c.repetitions) v.push_back(r.*field);
    return v;
  };
  struct Aggregate {
    const char* name;
    double (*fn)(const std::vector<double>&);
  };
  const Aggregate aggregates[] = {
      {"mean", [](const std::vector<double>& v) { return mean(v); }},
      {"median", [](const std::vector<double>& v) { return median(v); }},
      {"stddev", [](const std::vector<double>& v) { return stddev(v); }},
      {"cv", [](const std::vector<double>& v) { return coefficient_of_variation(v); }},
  };
  for (const auto& a : aggregates) {
    json j = entry_head(c, c.name + "_" + a.name, "aggregate");
    j["aggregate_name"] = a.name;
    j["aggregate_unit"] = std::string(a.name) == "cv" ? "percentage" : "time";
    j["iterations"] = static_cast<int64_t>(c.repetitions.size());
    j["real_time"] = a.fn(column(&Repetition::real_time));
    j["cpu_time"] = a.fn(column(&Repetition::cpu_time));
    j["time_unit"] = c.time_unit;
    add(j, id);
    if (c.has_roofline) j["roofline_pct"] = a.fn(column(&Repetition::roofline_pct));
    j["bytes_per_second"] = a.fn(column(&Repetition::bytes_per_second));
    j["flops_per_second"] = a.fn(column(&Repetition::flops_per_second));
    out.push_back(j);
  }
  return out;
}

json results_to_json(const ResultsFile& results) {
  json benchmarks = json::array();
  for (const auto& c : results.cases)
    for (auto& e : case_entries(c)) benchmarks.push_back(std::move(e));
  return {{"context", results.context}, {"benchmarks", std::move(benchmarks)}};
}

ResultsFile results_from_json(const json& j, const std::string& file) {
  if (!j.is_object()) throw InputError(file, "", "expected a results object {context, benchmarks}");
  ResultsFile r;
  if (j.contains("context")) {
    if (!j["context"].is_object()) throw InputError(file, "context", "expected an object");
    r.context = j["context"];
  }
  if (!j.contains("benchmarks")) throw InputError(file, "", "missing field 'benchmarks'");
  r.cases = read_entries(j["benchmarks"], file, "benchmarks");
  return r;
}

ResultsFile read_results(const std::string& path) {
  const std::string text = read_text(path, "results file");
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(path, "byte " + std::to_string(e.byte), "not valid JSON");
  }
  return results_from_json(j, path);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw InputError(path, "", "cannot create a temporary file next to it: " + errno_text());
  // mkstemp makes the file 0600; a results file should be as readable as any other.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw InputError(path, "", "cannot write: " + why);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw InputError(path, "", "cannot write: " + why);
  }
  // The rename itself is durable only once the directory is.
  const int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void write_results(const std::string& path, const ResultsFile& results) {
  write_file_atomically(path, results_to_json(results).dump(2) + "\n");
}

std::string journal_path(const std::string& results_path) { return results_path + ".journal"; }

Journal::Journal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd_ < 0) throw InputError(path_, "", "cannot open the journal: " + errno_text());
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    // Cut a torn last line (no newline yet) so the next line starts on its own.
    off_t keep = st.st_size;
    char c = 0;
    while (keep > 0 && ::pread(fd_, &c, 1, keep - 1) == 1 && c != '\n') --keep;
    if (keep != st.st_size && ::ftruncate(fd_, keep) != 0) {
      const std::string why = errno_text();
      ::close(fd_);
      throw InputError(path_, "", "cannot repair the torn last line of the journal: " + why);
    }
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const CaseResult& c) {
  json line = {{"id", c.name}, {"benchmarks", case_entries(c)}};
  const std::string text = line.dump() + "\n";
  if (!write_all(fd_, text) || ::fsync(fd_) != 0)
    throw InputError(path_, "", "cannot append to the journal: " + errno_text());
}

std::vector<CaseResult> read_journal(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
  const std::string text = read_text(path, "journal");
  std::vector<CaseResult> out;
  std::map<std::string, size_t> index;
  size_t pos = 0;
  for (int line_no = 1; pos < text.size(); ++line_no) {
    const size_t nl = text.find('\n', pos);
    const bool last = nl == std::string::npos || nl + 1 == text.size();
    if (nl == std::string::npos) break;  // torn: the crash came before its newline
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(line_no);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error&) {
      if (last) break;  // a torn write that a crash left padded
      throw InputError(path, where, "not valid JSON");
    }
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("benchmarks"))
      throw InputError(path, where, "expected {\"id\": ..., \"benchmarks\": [...]}");
    auto cases = read_entries(j["benchmarks"], path, where + " benchmarks");
    if (cases.size() != 1 || cases[0].name != j["id"].get<std::string>())
      throw InputError(path, where, "expected the entries of exactly the case named by 'id'");
    const auto found = index.find(cases[0].name);
    if (found != index.end()) {
      out[found->second] = std::move(cases[0]);
    } else {
      index.emplace(cases[0].name, out.size());
      out.push_back(std::move(cases[0]));
    }
  }
  return out;
}

}  // namespace moetune
