/*
 * file-read.cpp: regular-file checks and capped reads for the loaders (see file-read.h). The file
 * is opened with O_NONBLOCK, so opening a FIFO returns at once instead of waiting for a writer, and
 * its type and size come from fstat on the descriptor: what is checked is what is read.
 */
#include "file-read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace {

const char * kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

}  // namespace

regular_file::~regular_file() {
    if (fd >= 0) ::close(fd);
}

void open_regular_file(const std::string & path, regular_file & out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw engine_error(ERROR_IO, path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw engine_error(ERROR_IO, path + ": cannot stat: " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        bad_model(path, std::string("is ") + kind_of(st.st_mode) + ", not a regular file");
    }
    out.fd = fd;
    out.size = static_cast<uint64_t>(st.st_size);
}

bool path_exists(const std::string & path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string read_capped_file(const std::string & path, size_t cap) {
    regular_file f;
    open_regular_file(path, f);
    auto too_large = [&](const std::string & size) {
        bad_model(path, "is " + size + " bytes, more than the " + std::to_string(cap) + "-byte limit for this file");
    };
    if (f.size > cap) too_large(std::to_string(f.size));
    // The size may change while reading (a file being rewritten): read to the end, but never past cap.
    std::string out(static_cast<size_t>(f.size), '\0');
    size_t got = 0;
    while (true) {
        if (got == out.size()) {
            if (out.size() > cap) too_large("more than " + std::to_string(cap));  // it grew while being read
            out.resize(std::min(cap + 1, out.size() + 4096));  // probe for growth (and for EOF)
            if (got == out.size()) break;
        }
        const ssize_t n = ::read(f.fd, &out[got], out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw engine_error(ERROR_IO, path + ": cannot read: " + std::strerror(errno));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
}

std::string file_value_for_message(const std::string & value) {
    bool identifier = !value.empty() && value.size() <= 64;
    for (char c : value) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        identifier = identifier && ok;
    }
    if (identifier) return "'" + value + "'";
    return "(a " + std::to_string(value.size()) + "-byte string, not shown)";
}
