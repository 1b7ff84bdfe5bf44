/*
 * test-safetensors-fuzz.cpp: a bounded-time (about 5 s, at most 10 s) fuzz of the safetensors
 * header parser: seeded random mutations of a valid file (bit flips, byte runs, truncation,
 * splices of JSON tokens, random header lengths) must either parse into tensors whose data lies
 * inside the buffer, or throw engine_error. Never a crash or an out-of-range read (run under
 * ASan/valgrind to see the latter; here, every returned span is checked against the buffer).
 */
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/safetensors.h"
#include "test-util.h"
#include "tiny-model.h"

int main() {
    tiny_spec s;
    s.layers = 1;
    const std::string good = safetensors_bytes(tiny_tensors(s, 1), false);
    std::mt19937_64 rng(12345);
    const char * tokens[] = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\"dtype\"", "\"shape\"", "\"data_offsets\"",
                             "-1", "1e999", "18446744073709551616", "9223372036854775807", "null", "true", "\"F32\"",
                             "\"BF16\"", "[0,0]", "[[[[[[[[", "\xff\xfe"};
    const auto start = std::chrono::steady_clock::now();
    int64_t runs = 0, parsed = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
        std::string buf = good;
        const int mutations = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < mutations; ++k) {
            if (buf.empty()) break;
            switch (rng() % 6) {
                case 0: {  // bit flip
                    size_t p = rng() % buf.size();
                    buf[p] = static_cast<char>(buf[p] ^ (1 << (rng() % 8)));
                    break;
                }
                case 1: {  // random byte run
                    size_t p = rng() % buf.size(), n = 1 + rng() % 16;
                    for (size_t i = p; i < std::min(buf.size(), p + n); ++i) buf[i] = static_cast<char>(rng());
                    break;
                }
                case 2:  // truncate
                    buf.resize(rng() % (buf.size() + 1));
                    break;
                case 3: {  // splice a JSON token into the header
                    if (buf.size() < 9) break;
                    uint64_t len;
                    std::memcpy(&len, buf.data(), 8);
                    size_t hi = std::min<size_t>(buf.size(), 8 + std::min<uint64_t>(len, buf.size()));
                    if (hi <= 8) break;
                    size_t p = 8 + rng() % (hi - 8);
                    const char * t = tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
                    buf.replace(p, std::min<size_t>(std::strlen(t), buf.size() - p), t);
                    break;
                }
                case 4: {  // random header length
                    if (buf.size() < 8) break;
                    uint64_t len = rng() % 3 == 0 ? rng() : rng() % (buf.size() + 64);
                    std::memcpy(&buf[0], &len, 8);
                    break;
                }
                default: {  // change a digit in the header
                    size_t p = 8 + rng() % std::max<size_t>(1, std::min<size_t>(buf.size(), 2000) - 8);
                    if (p < buf.size() && buf[p] >= '0' && buf[p] <= '9') buf[p] = static_cast<char>('0' + rng() % 10);
                }
            }
        }
        ++runs;
        std::vector<st_tensor> out;
        const uint8_t * base = reinterpret_cast<const uint8_t *>(buf.data());
        try {
            st_parse_header("fuzz.safetensors", base, buf.size(), out);
            ++parsed;
            for (const auto & t : out) {
                bool inside = t.data >= base && t.data + t.nbytes <= base + buf.size();
                if (!inside) std::fprintf(stderr, "tensor %s outside the buffer\n", t.name.c_str());
                CHECK(inside);
            }
        } catch (const engine_error & e) {
            if (std::string(e.what()).rfind("fuzz.safetensors: ", 0) != 0) {
                std::fprintf(stderr, "message without the file name: %s\n", e.what());
                CHECK(false);
            }
        }
    }
    std::fprintf(stderr, "%lld mutated headers, %lld parsed\n", static_cast<long long>(runs), static_cast<long long>(parsed));
    CHECK(runs > 1000);
    // the unmutated file parses
    std::vector<st_tensor> out;
    st_parse_header("fuzz.safetensors", reinterpret_cast<const uint8_t *>(good.data()), good.size(), out);
    CHECK(out.size() == tiny_tensors(s, 1).size());
    return test_summary("test-safetensors-fuzz");
}
