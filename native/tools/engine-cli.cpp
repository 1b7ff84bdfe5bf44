/*
 * engine-cli.cpp: the engine's C++ command line, for benchmarks and device checks on machines
 * without Node (the GPU machine). Subcommands grow with the engine; results go to stdout here
 * because this program is not a language server.
 */
#include <cstdio>
#include <cstring>
#include "engine.h"

static int cmd_backends() {
    engine_backend_report reports[8];
    int n = engine_backends(reports, 8);
    for (int i = 0; i < n && i < 8; ++i) {
        std::printf("%-6s %-11s %s\n", reports[i].name, reports[i].available ? "available" : "unavailable",
                    reports[i].detail);
    }
    return 0;
}

static void usage(FILE * out) {
    std::fprintf(out,
                 "usage: engine-cli <command>\n"
                 "commands:\n"
                 "  backends   list the compute backends and why any is unavailable\n");
}

int main(int argc, char ** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "backends")) return cmd_backends();
    std::fprintf(stderr, "engine-cli: unknown command '%s'\n", argv[1]);
    return 2;
}
