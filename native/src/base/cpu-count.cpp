/*
 * cpu-count.cpp: the engine's default thread count from the affinity mask, the CPU topology and
 * cgroup CPU quotas (cpu-count.h says why each).
 */
#include "cpu-count.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace {

std::string trim(const std::string & s) {
    size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\n' || s[a] == '\t' || s[a] == '\r')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\n' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
    return s.substr(a, b - a);
}

// A whole non-negative or -1 integer; nullopt for anything else.
std::optional<long long> parse_int(const std::string & text) {
    const std::string t = trim(text);
    if (t.empty() || t.size() > 18) return std::nullopt;
    size_t i = t[0] == '-' ? 1 : 0;
    if (i == t.size()) return std::nullopt;
    for (size_t k = i; k < t.size(); ++k)
        if (t[k] < '0' || t[k] > '9') return std::nullopt;
    return std::stoll(t);
}

int ceil_div(long long quota, long long period) {
    if (quota <= 0 || period <= 0) return 0;
    return static_cast<int>(std::min<long long>((quota + period - 1) / period, 1 << 20));
}

// "/a/b" -> {"/a/b", "/a", ""}: the cgroup and its parents, the root last ("").
std::vector<std::string> with_parents(std::string path) {
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::vector<std::string> out;
    for (;;) {
        out.push_back(path);
        const size_t slash = path.rfind('/');
        if (path.empty() || slash == std::string::npos) break;
        path = path.substr(0, slash);
    }
    return out;
}

// The smallest positive value of f over the cgroup and its parents; 0 when none has one.
int tightest(const std::string & cgroup, const std::function<int(const std::string &)> & f) {
    int best = 0;
    for (const std::string & dir : with_parents(cgroup)) {
        const int q = f(dir);
        if (q > 0 && (best == 0 || q < best)) best = q;
    }
    return best;
}

}  // namespace

int cgroup2_quota_cpus(const std::string & cpu_max) {
    std::istringstream in(trim(cpu_max));
    std::string quota, period;
    if (!(in >> quota >> period) || quota == "max") return 0;
    const auto q = parse_int(quota), p = parse_int(period);
    return q && p ? ceil_div(*q, *p) : 0;
}

int cgroup1_quota_cpus(const std::string & quota_us, const std::string & period_us) {
    const auto q = parse_int(quota_us), p = parse_int(period_us);
    return q && p ? ceil_div(*q, *p) : 0;
}

int cgroup_quota_cpus(const std::string & proc_self_cgroup, const read_text_fn & read) {
    int best = 0;
    const auto take = [&best](int q) {
        if (q > 0 && (best == 0 || q < best)) best = q;
    };
    std::istringstream lines(proc_self_cgroup);
    std::string line;
    while (std::getline(lines, line)) {
        // hierarchy-ID:controller-list:cgroup-path
        const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = trim(line.substr(b + 1));
        if (line.compare(0, a, "0") == 0 && controllers.empty()) {
            take(tightest(path, [&](const std::string & dir) {
                for (const char * root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
                    if (auto t = read(std::string(root) + dir + "/cpu.max")) return cgroup2_quota_cpus(*t);
                return 0;
            }));
            continue;
        }
        std::set<std::string> names;
        std::istringstream list(controllers);
        for (std::string n; std::getline(list, n, ',');) names.insert(n);
        if (!names.count("cpu")) continue;
        take(tightest(path, [&](const std::string & dir) {
            for (const char * root : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuacct,cpu"}) {
                const std::string d = std::string(root) + dir;
                auto q = read(d + "/cpu.cfs_quota_us"), p = read(d + "/cpu.cfs_period_us");
                if (q && p) return cgroup1_quota_cpus(*q, *p);
            }
            return 0;
        }));
    }
    return best;
}

int physical_cores(const std::vector<int> & cpus, const read_text_fn & read) {
    std::set<std::string> cores;
    int unknown = 0;
    for (int cpu : cpus) {
        const auto t = read("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
        if (t && !trim(*t).empty()) cores.insert(trim(*t));
        else ++unknown;
    }
    return static_cast<int>(cores.size()) + unknown;
}

int default_threads(int allowed, int cores, int quota) {
    int n = cores > 0 ? cores : allowed;
    if (quota > 0) n = std::min(n, quota);
    return std::max(1, n);
}

cpu_count cpu_count_detect() {
    cpu_count c;
    c.online = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    std::vector<int> cpus;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int i = 0; i < CPU_SETSIZE; ++i)
            if (CPU_ISSET(i, &set)) cpus.push_back(i);
    const read_text_fn read = [](const std::string & path) -> std::optional<std::string> {
        std::ifstream f(path);
        if (!f) return std::nullopt;
        std::ostringstream s;
        s << f.rdbuf();
        return s.str();
    };
    if (!cpus.empty()) {
        c.allowed = static_cast<int>(cpus.size());
        c.cores = physical_cores(cpus, read);
    }
    if (auto self = read("/proc/self/cgroup")) c.quota = cgroup_quota_cpus(*self, read);
#endif
    if (c.allowed == 0) c.allowed = c.cores = c.online;
    c.threads = default_threads(c.allowed, c.cores, c.quota);
    return c;
}
