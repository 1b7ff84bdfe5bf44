/*
 * engine.h: THE C API of the Slipstream engine. The Node addon, the CLI and the tests use only
 * this header. Every function is noexcept and reports failure through engine_status plus a
 * message; objects come in *_init / *_free pairs. Nothing here writes to stdout.
 * Later work adds model and session functions here, next to what exists.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define ENGINE_NOEXCEPT noexcept
#else
#define ENGINE_NOEXCEPT
#endif

typedef enum engine_status {
    ENGINE_STATUS_OK = 0,
    ENGINE_STATUS_INVALID_ARGUMENT = 1,  // a caller passed something out of range
    ENGINE_STATUS_IO_ERROR = 2,          // a file could not be opened, mapped or read
    ENGINE_STATUS_BAD_MODEL = 3,         // a model/drafter folder is malformed or inconsistent
    ENGINE_STATUS_CANCELLED = 4,         // the abort flag was set
    ENGINE_STATUS_BUSY = 5,              // the object is already running a step
    ENGINE_STATUS_OUT_OF_MEMORY = 6,
    ENGINE_STATUS_UNSUPPORTED = 7,       // valid request this build or backend cannot serve
    ENGINE_STATUS_INTERNAL = 8,          // a bug: an exception escaped the core
} engine_status;

// Stable string for a status ("ENGINE_OK", "ENGINE_BAD_MODEL", ...): the code EngineError carries in JS.
const char * engine_status_code(engine_status status) ENGINE_NOEXCEPT;

// ---- backends ------------------------------------------------------------------------------

typedef struct engine_backend_report {
    char name[16];      // "cpu", "cuda"
    int  available;     // 1 when usable in this process
    char detail[256];   // device description when available; the reason when not
                        // ("not built", "module failed to load: ...", "no device: ...", "API version mismatch: ...")
} engine_backend_report;

// Fills up to max_reports entries, returns how many backends exist (cpu is always first).
// The CUDA module is looked up and loaded once, on the first call.
int engine_backends(engine_backend_report * reports, int max_reports) ENGINE_NOEXCEPT;

// ---- logging -------------------------------------------------------------------------------

typedef enum engine_log_level {
    ENGINE_LOG_DEBUG = 0,
    ENGINE_LOG_INFO = 1,
    ENGINE_LOG_WARN = 2,
    ENGINE_LOG_ERROR = 3,
} engine_log_level;

// A sink receives each complete line (no trailing newline). The default sink writes to stderr,
// never stdout: stdout carries the JSON-RPC stream. Pass NULL to restore the default.
typedef void (*engine_log_sink)(engine_log_level level, const char * line, void * user_data);
void engine_set_log_sink(engine_log_sink sink, void * user_data) ENGINE_NOEXCEPT;
void engine_set_log_level(engine_log_level min_level) ENGINE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
