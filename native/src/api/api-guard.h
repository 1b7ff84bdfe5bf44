/*
 * api-guard.h: the helpers every C API implementation file uses at the noexcept boundary:
 * `guarded` runs a body and turns any exception into an engine_status plus a message (an
 * engine_error's kind maps to its status in `to_status`, the one place the two meet), and
 * `copy_str` writes a message into a caller's fixed-size buffer (always NUL-terminated).
 */
#pragma once
#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "base/status.h"
#include "engine.h"

inline void copy_str(char * dst, size_t len, const std::string & s) {
    if (!dst || len == 0) return;
    size_t n = std::min(len - 1, s.size());
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

inline engine_status to_status(error_kind kind) {
    switch (kind) {
        case ERROR_INVALID_ARGUMENT: return ENGINE_STATUS_INVALID_ARGUMENT;
        case ERROR_IO: return ENGINE_STATUS_IO_ERROR;
        case ERROR_BAD_MODEL: return ENGINE_STATUS_BAD_MODEL;
        case ERROR_CANCELLED: return ENGINE_STATUS_CANCELLED;
        case ERROR_OUT_OF_MEMORY: return ENGINE_STATUS_OUT_OF_MEMORY;
        case ERROR_NUMERIC: return ENGINE_STATUS_NUMERIC;
        case ERROR_UNSUPPORTED: return ENGINE_STATUS_UNSUPPORTED;
    }
    return ENGINE_STATUS_INTERNAL;
}

// Runs fn, converting exceptions to a status and a message (cleared on success).
template <typename F>
engine_status guarded(std::string & error, F && fn) noexcept {
    try {
        fn();
        error.clear();
        return ENGINE_STATUS_OK;
    } catch (const engine_error & e) {
        error = e.what();
        return to_status(e.kind);
    } catch (const std::bad_alloc &) {
        error = "out of memory";
        return ENGINE_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception & e) {
        error = std::string("internal error: ") + e.what();
        return ENGINE_STATUS_INTERNAL;
    } catch (...) {
        error = "internal error: unknown exception";
        return ENGINE_STATUS_INTERNAL;
    }
}
