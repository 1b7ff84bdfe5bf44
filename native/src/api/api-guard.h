/*
 * api-guard.h: the two helpers every C API implementation file uses at the noexcept boundary:
 * `guarded` runs a body and turns any exception into an engine_status plus a message, and
 * `copy_str` writes a message into a caller's fixed-size buffer (always NUL-terminated).
 */
#pragma once
#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "base/check.h"
#include "engine.h"

inline void copy_str(char * dst, size_t len, const std::string & s) {
    if (!dst || len == 0) return;
    size_t n = std::min(len - 1, s.size());
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
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
        return e.status;
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
