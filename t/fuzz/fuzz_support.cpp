// SPDX-License-Identifier: GPL-2.0-or-later
// Scratch directories and checks for the fuzz targets, and the guard that keeps them from spawning processes.
#include "fuzz_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bitset>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "dkms/sys/fs.hpp"

// A fuzz target must never start a process (no bash, no make): every path the engine takes to
// start one goes through fork() (lib/sys/process.cpp), so the fuzz binaries define fork() and
// the posix_spawn family themselves, and these definitions win over the C library's. Reaching
// one aborts: a reader that was supposed to work without a shell decided to run one. A target
// that expects the engine to ask for bash sometimes (framework_conf) makes them fail instead
// (set_process_starts_fail). FUZZ_ALLOW_PROCESSES (the replays against bash) leaves them alone.
namespace {
bool starts_fail_quietly = false;
unsigned long starts_refused = 0;
}  // namespace

#ifndef FUZZ_ALLOW_PROCESSES
namespace {
int no_processes(const char* fn) {
    if (!starts_fail_quietly) {
        std::fprintf(stderr, "fuzz target called %s(): fuzz targets must not start processes\n", fn);
        std::abort();
    }
    ++starts_refused;
    errno = EPERM;
    return -1;
}
}  // namespace

extern "C" pid_t fork(void) { return no_processes("fork"); }
extern "C" pid_t vfork(void) { return no_processes("vfork"); }
extern "C" int posix_spawn(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                           char* const[], char* const[]) {
    no_processes("posix_spawn");
    return EPERM;
}
extern "C" int posix_spawnp(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                            char* const[], char* const[]) {
    no_processes("posix_spawnp");
    return EPERM;
}
#endif

namespace dkms::fuzz {

namespace {

// The process-wide private directory; removed by a static destructor at exit().
struct Base {
    fs::path path;
    unsigned long next = 0;
    Base() {
        const char* t = std::getenv("TMPDIR");
        path = make_temp_dir(t && *t ? t : "/tmp", "dkms-fuzz-");
        path = fs::canonical(path);
    }
    ~Base() { remove_tree(path); }
};

Base& base() {
    static Base b;
    return b;
}

}  // namespace

void set_process_starts_fail(bool fail_quietly) { starts_fail_quietly = fail_quietly; }
unsigned long process_starts_refused() { return starts_refused; }

void fail(const char* where, const std::string& what) {
    std::fprintf(stderr, "\nfuzz invariant failed at %s\n  %s\n", where, what.c_str());
    std::fflush(stderr);
    remove_tree(base().path);  // abort() runs no destructors; the input reproduces it anyway
    std::abort();
}

namespace {
// Which of the first descriptors are open (a leak within one input shows up among them).
std::bitset<256> open_fds() {
    std::bitset<256> b;
    for (int fd = 0; fd < 256; ++fd) b[fd] = fcntl(fd, F_GETFD) != -1;
    return b;
}
}  // namespace

Scratch::Scratch() : fds_(open_fds()) {
    Base& b = base();
    path_ = b.path / std::to_string(b.next++);
    if (mkdir(path_.c_str(), 0700) != 0)
        throw std::runtime_error("cannot create " + path_.string() + ": " + std::strerror(errno));
}

Scratch::~Scratch() {
    if (!remove_tree(path_)) fail("Scratch", "cannot remove " + path_.string());
    std::bitset<256> left = open_fds() & ~fds_;
    for (int fd = 0; fd < 256; ++fd)
        if (left[fd]) fail("Scratch", "file descriptor " + std::to_string(fd) + " was left open");
}

bool Scratch::contains(const fs::path& p) const {
    if (!p.is_absolute()) return false;
    std::error_code ec;
    fs::path r = fs::weakly_canonical(p, ec);
    if (ec) return false;  // a symlink loop, or something we cannot resolve: treat as outside
    auto rel = r.lexically_relative(path_);
    return !rel.empty() && *rel.begin() != "..";
}

void write_bytes(const fs::path& p, std::string_view bytes) {
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + p.string() + ": " + std::strerror(errno));
    while (!bytes.empty()) {
        ssize_t w = write(fd, bytes.data(), bytes.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            close(fd);
            throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(errno));
        }
        bytes.remove_prefix(size_t(w));
    }
    close(fd);
}

std::vector<std::string_view> split_at_lines(std::string_view text, std::string_view sep) {
    std::vector<std::string_view> parts;
    size_t start = 0, pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string_view::npos ? text.size() : nl;
        if (text.substr(pos, end - pos) == sep) {
            parts.push_back(text.substr(start, pos - start));
            start = nl == std::string_view::npos ? text.size() : nl + 1;
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    parts.push_back(text.substr(start));
    return parts;
}

}  // namespace dkms::fuzz
