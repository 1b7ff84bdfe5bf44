/*
 * vocab-bytes.cpp: building the token-bytes table (checked offsets, the sorted index) and the two
 * range lookups on the sorted index (binary searches; no allocation).
 */
#include "vocab-bytes.h"

#include <algorithm>
#include <string>

#include "base/status.h"

std::shared_ptr<const vocab_bytes> vocab_bytes_make(const uint8_t * bytes, const uint32_t * offsets, const uint8_t * special,
                                                    int n_vocab) {
    if (n_vocab < 1 || !offsets) throw engine_error(ERROR_INVALID_ARGUMENT, "token bytes: need offsets for at least one token");
    if (offsets[0] != 0) throw engine_error(ERROR_INVALID_ARGUMENT, "token bytes: offsets[0] must be 0");
    for (int i = 0; i < n_vocab; ++i)
        if (offsets[i + 1] < offsets[i])
            throw engine_error(ERROR_INVALID_ARGUMENT, "token bytes: offsets decrease at token " + std::to_string(i));
    const uint32_t total = offsets[n_vocab];
    if (total > 0 && !bytes) throw engine_error(ERROR_INVALID_ARGUMENT, "token bytes: bytes are required");
    auto vb = std::make_shared<vocab_bytes>();
    vb->n_vocab = n_vocab;
    vb->data.assign(bytes, bytes + total);
    vb->offset.assign(offsets, offsets + n_vocab + 1);
    vb->special.assign(static_cast<size_t>(n_vocab), 0);
    if (special)
        for (int i = 0; i < n_vocab; ++i) vb->special[static_cast<size_t>(i)] = special[i] ? 1 : 0;
    for (int32_t id = 0; id < n_vocab; ++id)
        if (vb->usable(id)) vb->sorted.push_back(id);
    // string_view compares as char_traits<char>, which compares bytes as unsigned char
    std::sort(vb->sorted.begin(), vb->sorted.end(), [&](int32_t a, int32_t b) {
        const int c = vb->bytes(a).compare(vb->bytes(b));
        return c < 0 || (c == 0 && a < b);
    });
    return vb;
}

void vocab_bytes_with_prefix(const vocab_bytes & vb, std::string_view s, int * lo, int * hi) {
    const auto & ids = vb.sorted;
    // first token >= s, then first token whose first |s| bytes exceed s
    auto first = std::partition_point(ids.begin(), ids.end(), [&](int32_t id) { return vb.bytes(id) < s; });
    auto last = std::partition_point(first, ids.end(), [&](int32_t id) { return vb.bytes(id).substr(0, s.size()) == s; });
    *lo = static_cast<int>(first - ids.begin());
    *hi = static_cast<int>(last - ids.begin());
}

void vocab_bytes_equal(const vocab_bytes & vb, std::string_view s, int * lo, int * hi) {
    const auto & ids = vb.sorted;
    auto first = std::partition_point(ids.begin(), ids.end(), [&](int32_t id) { return vb.bytes(id) < s; });
    auto last = std::partition_point(first, ids.end(), [&](int32_t id) { return vb.bytes(id) == s; });
    *lo = static_cast<int>(first - ids.begin());
    *hi = static_cast<int>(last - ids.begin());
}
