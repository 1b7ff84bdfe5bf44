/*
 * json.h: a small JSON reader for config.json, safetensors headers and tokenizer.json. Parses the
 * whole text into a tree of json_value; numbers are kept as double plus an exact int64 when
 * integral. Throws json_error with the byte offset on malformed input (never reads out of range).
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

// max_depth guards against stack exhaustion on hostile input.
json_value json_parse(const char * text, size_t len, int max_depth = 64);
