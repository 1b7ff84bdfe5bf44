/*
 * fuzz-json.cpp: json_parse on arbitrary bytes, three ways: keeping everything, keeping two key
 * paths (the tokenizer scan's), and with a small value budget. The filtered parse accepts exactly
 * what the full one accepts (skip mode checks the same grammar), and keeps no more values.
 */
#include <string>

#include "core/json.h"
#include "fuzz-target.h"

namespace {

size_t count(const json_value & v) {
    size_t n = 1;
    for (const auto & e : v.arr) n += count(e);
    for (const auto & kv : v.obj) n += count(kv.second);
    return n;
}

// Parses text; returns false (and n = 0) when json_parse refused it.
bool parse(const char * text, size_t len, const json_options & opt, size_t & n) {
    n = 0;
    try {
        json_value v = json_parse(text, len, opt);
        n = count(v);
        (void)v.get("model");
        return true;
    } catch (const json_error &) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const char * text = reinterpret_cast<const char *>(data);
    json_options all;
    all.max_values = size_t(1) << 24;  // no limit at these input sizes
    json_options some = all;
    some.keep = {{"model", "vocab"}, {"added_tokens"}};
    json_options small;
    small.max_values = 16;
    size_t n_all = 0, n_some = 0, n_small = 0;
    const bool ok_all = parse(text, size, all, n_all);
    const bool ok_some = parse(text, size, some, n_some);
    const bool ok_small = parse(text, size, small, n_small);
    ENGINE_ASSERT(ok_all == ok_some);
    ENGINE_ASSERT(n_some <= n_all);
    ENGINE_ASSERT(ok_small == (ok_all && n_all <= 16));  // the budget refuses exactly the larger trees
    ENGINE_ASSERT(!ok_small || n_small == n_all);
    return 0;
}
