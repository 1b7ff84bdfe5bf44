/*
 * json.cpp: a recursive-descent JSON parser (RFC 8259) with bounds checks on every read and a depth
 * limit. \u escapes are decoded to UTF-8 (surrogate pairs joined).
 */
#include "json.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace {

struct parser {
    const char * p;
    const char * end;
    const char * begin;
    int max_depth;

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
    std::string string() {
        if (p >= end || *p != '"') fail("expected string");
        ++p;
        std::string out;
        while (true) {
            if (p >= end) fail("unterminated string");
            char c = *p++;
            if (c == '"') break;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (p >= end) fail("unterminated escape");
            char e = *p++;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                        p += 2;
                        uint32_t lo = hex4();
                        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        else { put_utf8(out, cp); cp = lo; }
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: fail("bad escape");
            }
        }
        return out;
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
        std::string text(start, p);
        v.kind = json_value::NUMBER;
        v.num = std::strtod(text.c_str(), nullptr);
        if (integral && text.size() <= 19) {
            v.is_int = true;
            v.i = std::strtoll(text.c_str(), nullptr, 10);
        } else if (integral) {
            v.is_int = false;  // too large for int64: keep the double only
        }
    }
    void value(json_value & v, int depth) {
        if (depth > max_depth) fail("nesting too deep");
        ws();
        if (p >= end) fail("unexpected end");
        char c = *p;
        if (c == '{') {
            ++p;
            v.kind = json_value::OBJECT;
            ws();
            if (p < end && *p == '}') { ++p; return; }
            while (true) {
                ws();
                std::string key = string();
                ws();
                if (p >= end || *p != ':') fail("expected ':'");
                ++p;
                v.obj.emplace_back(std::move(key), json_value());
                value(v.obj.back().second, depth + 1);
                ws();
                if (p < end && *p == ',') { ++p; continue; }
                if (p < end && *p == '}') { ++p; return; }
                fail("expected ',' or '}'");
            }
        } else if (c == '[') {
            ++p;
            v.kind = json_value::ARRAY;
            ws();
            if (p < end && *p == ']') { ++p; return; }
            while (true) {
                v.arr.emplace_back();
                value(v.arr.back(), depth + 1);
                ws();
                if (p < end && *p == ',') { ++p; continue; }
                if (p < end && *p == ']') { ++p; return; }
                fail("expected ',' or ']'");
            }
        } else if (c == '"') {
            v.kind = json_value::STRING;
            v.str = string();
        } else if (lit("true")) {
            v.kind = json_value::BOOL;
            v.b = true;
        } else if (lit("false")) {
            v.kind = json_value::BOOL;
        } else if (lit("null")) {
            v.kind = json_value::NUL;
        } else {
            number(v);
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

json_value json_parse(const char * text, size_t len, int max_depth) {
    parser ps{text, text + len, text, max_depth};
    json_value v;
    ps.value(v, 0);
    ps.ws();
    if (ps.p != ps.end) ps.fail("trailing characters");
    return v;
}
