/*
 * status.h: how the parts under the C API report a recoverable failure (a bad file, a bad argument,
 * a cancelled call): they throw engine_error with an error_kind and a one-line message. Only api/
 * maps a kind to the public engine_status (api-guard.h), so nothing here needs the public header.
 * Broken invariants are not errors but asserts (check.h).
 */
#pragma once
#include <stdexcept>
#include <string>

enum error_kind : int {
    ERROR_INVALID_ARGUMENT,  // a caller passed something out of range
    ERROR_IO,                // a file could not be opened, mapped or read
    ERROR_BAD_MODEL,         // a model/drafter folder is malformed or inconsistent
    ERROR_CANCELLED,         // the abort flag was set
    ERROR_OUT_OF_MEMORY,
    ERROR_NUMERIC,           // the model computed a non-finite value (NaN or Inf logits)
    ERROR_UNSUPPORTED,       // a valid request the chosen backend cannot serve (ops it lacks)
};

// A recoverable failure: its kind and a message naming what failed.
struct engine_error : std::runtime_error {
    error_kind kind;
    engine_error(error_kind k, const std::string & msg) : std::runtime_error(msg), kind(k) {}
};

// A malformed or inconsistent model/drafter folder: "<file>: <what is wrong>".
[[noreturn]] inline void bad_model(const std::string & where, const std::string & msg) {
    throw engine_error(ERROR_BAD_MODEL, where + ": " + msg);
}
