/*
 * fault-inject.cpp: the armed list of fault-inject.h and its hit counters. ENGINE_FAULT is read
 * by a static initializer when the library loads; nothing is logged then (the log may not exist
 * yet), only when a fault fires.
 */
#include "fault-inject.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "log.h"

namespace {

struct fault_rule {
    std::string site;
    long long nth = 0;  // 0: every hit
    long long hits = 0;
};

std::mutex g_mutex;
std::vector<fault_rule> g_rules;
std::atomic<bool> g_armed{false};

const bool g_from_env = [] {
    fault_arm(std::getenv("ENGINE_FAULT"));
    return true;
}();

}  // namespace

void fault_arm(const char * spec) {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_rules.clear();
    const std::string s = spec ? spec : "";
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        const std::string item = s.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        fault_rule r;
        const size_t at = item.find('@');
        r.site = item.substr(0, at);
        if (at != std::string::npos) r.nth = std::atoll(item.c_str() + at + 1);
        if (r.nth < 0) r.nth = 0;
        g_rules.push_back(r);
    }
    g_armed.store(!g_rules.empty(), std::memory_order_release);
}

bool fault_hit(const char * site) {
    if (!g_armed.load(std::memory_order_acquire)) return false;
    bool fire = false;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        for (auto & r : g_rules) {
            if (r.site != site) continue;
            r.hits += 1;
            fire = fire || r.nth == 0 || r.hits == r.nth;
        }
    }
    if (fire) ENGINE_LOG_WARN("fault injection: failing %s (ENGINE_FAULT)", site);
    return fire;
}
