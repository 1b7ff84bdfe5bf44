/*
 * engine.cpp: C API glue: argument checks and exception-to-status conversion only.
 * The work lives in the files each function calls.
 */
#include "engine.h"

extern "C" const char * engine_status_code(engine_status status) noexcept {
    switch (status) {
        case ENGINE_STATUS_OK: return "ENGINE_OK";
        case ENGINE_STATUS_INVALID_ARGUMENT: return "ENGINE_INVALID_ARGUMENT";
        case ENGINE_STATUS_IO_ERROR: return "ENGINE_IO_ERROR";
        case ENGINE_STATUS_BAD_MODEL: return "ENGINE_BAD_MODEL";
        case ENGINE_STATUS_CANCELLED: return "ENGINE_CANCELLED";
        case ENGINE_STATUS_BUSY: return "ENGINE_BUSY";
        case ENGINE_STATUS_OUT_OF_MEMORY: return "ENGINE_OUT_OF_MEMORY";
        case ENGINE_STATUS_UNSUPPORTED: return "ENGINE_UNSUPPORTED";
        case ENGINE_STATUS_INTERNAL: return "ENGINE_INTERNAL";
    }
    return "ENGINE_UNKNOWN";
}
