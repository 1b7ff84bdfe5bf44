/*
 * replay-main.cpp: the main() of a fuzz target built without libFuzzer (the normal and sanitizer
 * builds): runs LLVMFuzzerTestOneInput once on every file named, or in the folders named, and
 * fails when a folder is missing or empty. ctest runs each target over its seed corpus and its
 * regression inputs this way, so every input that ever crashed a target stays a test.
 */
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz-target.h"

namespace {

bool run_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // a copy of exactly the input's size, so ASan sees any read past its end
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    static uint8_t none = 0;  // libFuzzer passes a valid pointer for an empty input too
    LLVMFuzzerTestOneInput(input.empty() ? &none : input.data(), input.size());
    return true;
}

}  // namespace

int main(int argc, char ** argv) {
    int files = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        struct stat st;
        if (::stat(arg.c_str(), &st) != 0) {
            std::fprintf(stderr, "replay: %s does not exist\n", arg.c_str());
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            files += run_file(arg) ? 1 : 0;
            continue;
        }
        std::vector<std::string> names;
        if (DIR * d = ::opendir(arg.c_str())) {
            while (dirent * e = ::readdir(d))
                if (e->d_name[0] != '.') names.push_back(arg + "/" + e->d_name);
            ::closedir(d);
        }
        std::sort(names.begin(), names.end());
        for (const auto & n : names) files += run_file(n) ? 1 : 0;
    }
    std::fprintf(stderr, "replay: %d inputs, no crash\n", files);
    return files > 0 ? 0 : 1;
}
