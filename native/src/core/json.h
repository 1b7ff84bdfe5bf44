/*
 * json.h: a small JSON reader for config.json, safetensors headers and tokenizer.json. Parses the
 * whole text into a tree of json_value; numbers are kept as double plus an exact int64 when
 * integral. Throws json_error with the byte offset on malformed input (never reads out of range,
 * never quotes the text). The tree is bounded: a depth limit (the stack) and a limit on the values
 * kept (memory: a json_value is about 120 bytes, so "[0,0,0,...]" would grow 60-fold); a caller
 * that needs only some members names their key paths and the rest is checked but not kept.
 */
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct json_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct json_value {
    enum kind_t { NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT } kind = NUL;
    bool b = false;
    double num = 0;
    bool is_int = false;
    int64_t i = 0;
    std::string str;
    std::vector<json_value> arr;
    std::vector<std::pair<std::string, json_value>> obj;  // in file order

    const json_value * get(const std::string & key) const;  // null if absent or not an object
    bool is_null() const { return kind == NUL; }
};

struct json_options {
    int max_depth = 64;                   // nesting limit (stack exhaustion on hostile input)
    size_t max_values = size_t(1) << 20;  // values kept in the tree; more is an error
    // Key paths to keep (e.g. {"model", "vocab"}); empty keeps everything. An object member is kept
    // when its path leads to or lies under one of them; arrays do not add to a path.
    std::vector<std::vector<std::string>> keep;
};

json_value json_parse(const char * text, size_t len, const json_options & options = json_options());
