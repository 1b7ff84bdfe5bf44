/*
 * test-backends.cpp: the backend registry always reports the CPU as available and reports CUDA
 * with a reason whenever it is not usable.
 */
#include <cstring>
#include "engine.h"
#include "test-util.h"

int main() {
    engine_backend_report reports[8];
    int n = engine_backends(reports, 8);
    CHECK(n >= 2);
    CHECK(std::strcmp(reports[0].name, "cpu") == 0);
    CHECK(reports[0].available == 1);
    CHECK(std::strcmp(reports[1].name, "cuda") == 0);
    if (!reports[1].available) CHECK(std::strlen(reports[1].detail) > 0);
    CHECK(std::strcmp(engine_status_code(ENGINE_STATUS_BAD_MODEL), "ENGINE_BAD_MODEL") == 0);
    return test_summary("test-backends");
}
