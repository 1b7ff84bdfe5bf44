/*
 * json.cpp: a recursive-descent JSON parser (RFC 8259) with bounds checks on every read, a depth
 * limit, a limit on the values kept and key-path filtering (members off the kept paths are parsed
 * in skip mode: checked, never stored). \u escapes are decoded to UTF-8 (surrogate pairs joined).
 * Numbers are read with std::from_chars, so the process locale cannot change them.
 */
#include "json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace {

// Where a value lies relative to the kept key paths.
enum keep_mode { KEEP_ALL, KEEP_SOME, KEEP_NONE };

struct parser {
    const char * p;
    const char * end;
    const char * begin;
    const json_options & opt;
    size_t kept = 0;
    std::vector<std::string> path;  // keys of the objects above the current member (KEEP_SOME only)

    [[noreturn]] void fail(const char * what) const {
        throw json_error(std::string(what) + " at byte " + std::to_string(p - begin));
    }
    void ws() {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
    }
    bool lit(const char * s) {
        size_t n = std::strlen(s);
        if (static_cast<size_t>(end - p) >= n && std::memcmp(p, s, n) == 0) {
            p += n;
            return true;
        }
        return false;
    }
    static void put_utf8(std::string & out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    uint32_t hex4() {
        if (end - p < 4) fail("truncated \\u escape");
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = *p++;
            v <<= 4;
            if (c >= '0' && c <= '9') v |= c - '0';
            else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
            else fail("bad \\u escape");
        }
        return v;
    }
    // Reads a string into out (null: checks it only).
    void string(std::string * out) {
        if (p >= end || *p != '"') fail("expected string");
        ++p;
        std::string scratch;
        std::string & o = out ? *out : scratch;
        while (true) {
            // the plain run up to the next quote, backslash or control character in one piece
            const char * run = p;
            while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
            if (out) o.append(run, p);
            if (p >= end) fail("unterminated string");
            char c = *p++;
            if (c == '"') break;
            if (c != '\\') fail("control character in string");
            if (p >= end) fail("unterminated escape");
            char e = *p++;
            switch (e) {
                case '"': o += '"'; break;
                case '\\': o += '\\'; break;
                case '/': o += '/'; break;
                case 'b': o += '\b'; break;
                case 'f': o += '\f'; break;
                case 'n': o += '\n'; break;
                case 'r': o += '\r'; break;
                case 't': o += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                        p += 2;
                        uint32_t lo = hex4();
                        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        else { put_utf8(o, cp); cp = lo; }
                    }
                    put_utf8(o, cp);
                    break;
                }
                default: fail("bad escape");
            }
            if (!out) o.clear();
        }
    }
    void number(json_value & v) {
        const char * start = p;
        if (p < end && *p == '-') ++p;
        if (p >= end || !(*p >= '0' && *p <= '9')) fail("bad number");
        bool integral = true;
        while (p < end && *p >= '0' && *p <= '9') ++p;
        if (p < end && *p == '.') {
            integral = false;
            ++p;
            if (p >= end || !(*p >= '0' && *p <= '9')) fail("bad number");
            while (p < end && *p >= '0' && *p <= '9') ++p;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
            integral = false;
            ++p;
            if (p < end && (*p == '+' || *p == '-')) ++p;
            if (p >= end || !(*p >= '0' && *p <= '9')) fail("bad number");
            while (p < end && *p >= '0' && *p <= '9') ++p;
        }
        v.kind = json_value::NUMBER;
        // the grammar was checked above; from_chars reports only range errors (then: +-inf or 0)
        const auto r = std::from_chars(start, p, v.num);
        if (r.ec == std::errc::result_out_of_range) v.num = (*start == '-' ? -1.0 : 1.0) * (overflows(start, p) ? HUGE_VAL : 0.0);
        if (integral) {
            int64_t i = 0;
            const auto ri = std::from_chars(start, p, i);
            v.is_int = ri.ec == std::errc() && ri.ptr == p;  // false when too large for int64: the double only
            if (v.is_int) v.i = i;
        }
    }
    // For a number out of double's range: true when too large (else too small). Its decimal
    // magnitude is the integer part's digit count (or minus the zeros after the point) plus the exponent.
    static bool overflows(const char * s, const char * e) {
        if (*s == '-') ++s;
        int64_t mag = 0;
        while (s < e && *s == '0') ++s;
        const char * digits = s;
        while (s < e && *s >= '0' && *s <= '9') ++s;
        mag = s - digits;
        if (mag == 0 && s < e && *s == '.') {
            ++s;
            while (s < e && *s == '0') { ++s; --mag; }
        }
        while (s < e && *s != 'e' && *s != 'E') ++s;
        if (s < e) {
            ++s;
            const bool neg = s < e && *s == '-';
            if (s < e && (*s == '-' || *s == '+')) ++s;
            int64_t x = 0;
            for (; s < e && x < 1000000; ++s) x = x * 10 + (*s - '0');
            mag += neg ? -x : x;
        }
        return mag > 0;
    }
    // Where the member `key` of an object at `mode` lies (path holds the keys above it).
    keep_mode member_mode(keep_mode mode, const std::string & key) const {
        if (mode != KEEP_SOME) return mode;
        keep_mode best = KEEP_NONE;
        const size_t depth = path.size() + 1;  // the member's path: path + key
        for (const auto & k : opt.keep) {
            const size_t common = std::min(k.size(), depth);
            bool match = true;
            for (size_t i = 0; match && i < common; ++i) match = (i < path.size() ? path[i] : key) == k[i];
            if (!match) continue;
            if (k.size() <= depth) return KEEP_ALL;  // the member lies on or under a kept path
            best = KEEP_SOME;                        // it leads to one
        }
        return best;
    }
    json_value & count(json_value & v) {
        if (++kept > opt.max_values) fail(("more than " + std::to_string(opt.max_values) + " values").c_str());
        return v;
    }
    // Parses one value into v (mode KEEP_NONE: checks it, v stays null).
    void value(json_value & v, int depth, keep_mode mode) {
        if (depth > opt.max_depth) fail("nesting too deep");
        ws();
        if (p >= end) fail("unexpected end");
        const bool keep = mode != KEEP_NONE;
        if (keep) count(v);
        char c = *p;
        if (c == '{') {
            ++p;
            if (keep) v.kind = json_value::OBJECT;
            ws();
            if (p < end && *p == '}') { ++p; return; }
            while (true) {
                ws();
                std::string key;
                string(mode == KEEP_NONE ? nullptr : &key);
                ws();
                if (p >= end || *p != ':') fail("expected ':'");
                ++p;
                const keep_mode m = member_mode(mode, key);
                if (m == KEEP_NONE) {
                    json_value ignored;
                    value(ignored, depth + 1, KEEP_NONE);
                } else {
                    if (mode == KEEP_SOME) path.push_back(key);
                    v.obj.emplace_back(std::move(key), json_value());
                    value(v.obj.back().second, depth + 1, m);
                    if (mode == KEEP_SOME) path.pop_back();
                }
                ws();
                if (p < end && *p == ',') { ++p; continue; }
                if (p < end && *p == '}') { ++p; return; }
                fail("expected ',' or '}'");
            }
        } else if (c == '[') {
            ++p;
            if (keep) v.kind = json_value::ARRAY;
            ws();
            if (p < end && *p == ']') { ++p; return; }
            json_value ignored;
            while (true) {
                if (keep) {
                    v.arr.emplace_back();
                    value(v.arr.back(), depth + 1, mode);
                } else {
                    value(ignored, depth + 1, KEEP_NONE);
                }
                ws();
                if (p < end && *p == ',') { ++p; continue; }
                if (p < end && *p == ']') { ++p; return; }
                fail("expected ',' or ']'");
            }
        } else if (c == '"') {
            if (keep) v.kind = json_value::STRING;
            string(keep ? &v.str : nullptr);
        } else if (lit("true")) {
            if (keep) {
                v.kind = json_value::BOOL;
                v.b = true;
            }
        } else if (lit("false")) {
            if (keep) v.kind = json_value::BOOL;
        } else if (lit("null")) {
            if (keep) v.kind = json_value::NUL;
        } else {
            json_value n;
            number(keep ? v : n);
        }
    }
};

}  // namespace

const json_value * json_value::get(const std::string & key) const {
    if (kind != OBJECT) return nullptr;
    for (const auto & kv : obj)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

json_value json_parse(const char * text, size_t len, const json_options & options) {
    parser ps{text, text + len, text, options, 0, {}};
    json_value v;
    ps.value(v, 0, options.keep.empty() ? KEEP_ALL : KEEP_SOME);
    ps.ws();
    if (ps.p != ps.end) ps.fail("trailing characters");
    return v;
}
