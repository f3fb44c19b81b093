// SPDX-License-Identifier: GPL-2.0-or-later
// flock-based writer lock on the dkms tree.
#include "dkms/sys/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"

namespace dkms {

namespace {

constexpr const char* env_name = "DKMS_RUN_LOCKED";

// The parent of `pid` (from /proc/<pid>/stat), 0 when unknown.
pid_t parent_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    return pid_t(ppid);
}

bool is_ancestor(pid_t pid) {
    for (pid_t p = getppid(); p > 1; p = parent_of(p))
        if (p == pid) return true;
    return false;
}

// DKMS_RUN_LOCKED=<tree>:<pid> was set by a dkms-run holding the lock of <tree>; a process it started
// (a script it waits for) may work in the tree without the lock. A process that outlived it (a
// background helper, reparented) takes the lock like any other writer.
bool held_by_an_ancestor(const std::string& tree) {
    const char* held = getenv(env_name);
    if (!held) return false;
    std::string v = held;
    auto colon = v.rfind(':');
    if (colon == std::string::npos || v.substr(0, colon) != tree) return false;
    char* end = nullptr;
    long pid = std::strtol(v.c_str() + colon + 1, &end, 10);
    return end && *end == '\0' && pid > 1 && is_ancestor(pid_t(pid));
}

// "pid N (command line)" of the process holding the flock on `fd`'s file, from /proc/locks.
std::string holder_of(int fd) {
    struct stat st{};
    if (fstat(fd, &st) != 0) return "";
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
    std::ifstream in("/proc/locks");
    for (std::string line; std::getline(in, line);) {
        std::istringstream w(line);
        std::string n, kind, mode, access, pid, dev;
        w >> n >> kind;
        if (kind == "->") w >> kind;  // a waiter's line
        w >> mode >> access >> pid >> dev;
        if (kind != "FLOCK" || dev != id || line.find("->") != std::string::npos) continue;
        std::string cmd;
        try {
            cmd = read_file("/proc/" + pid + "/cmdline");
        } catch (const Error&) {
        }
        for (auto& c : cmd)
            if (c == '\0') c = ' ';
        while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
        return "pid " + pid + (cmd.empty() ? "" : " (" + cmd + ")");
    }
    return "";
}

}  // namespace

TreeLock::TreeLock(const std::filesystem::path& tree, Reporter& report, int timeout_seconds) {
    std::error_code ec;
    std::filesystem::path canon = std::filesystem::weakly_canonical(tree, ec);
    if (held_by_an_ancestor(canon.string())) return;
    std::filesystem::create_directories(tree, ec);
    if (ec) {
        if (ec.value() == EACCES || ec.value() == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + tree.string());
        throw SystemError("cannot create " + tree.string(), ec.value());
    }
    std::filesystem::path p = tree / ".dkms-run.lock";
    // Close-on-exec: the processes a run starts (make, scripts, what they leave in the background)
    // never hold the lock, so nothing can keep it once dkms-run has stopped waiting for them.
    // O_NOFOLLOW: a symlink planted as the lock would have us create or lock a file anywhere.
    fd_ = open(p.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        if (errno == ELOOP)
            throw Error(ExitCode::Error, {p.string() + " is a symbolic link; the lock file must be a plain file.",
                                          "Remove it (rm " + p.string() + ") if it was not made on purpose."});
        if (errno == EACCES || errno == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + tree.string());
        throw SystemError("cannot open " + p.string(), errno);
    }
    // Polled, so that a signal (Ctrl-C, SIGTERM) or the time limit ends the wait.
    auto start = std::chrono::steady_clock::now();
    std::string holder;
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) throw SystemError("cannot lock " + p.string(), errno);
        throw_if_interrupted();
        if (holder.empty()) {
            holder = holder_of(fd_);
            if (holder.empty()) holder = "another process";
            report.err("Waiting for another dkms-run working on " + tree.string() + " to finish (" + holder + ")...");
        }
        if (std::chrono::steady_clock::now() - start >= std::chrono::seconds(timeout_seconds)) {
            if (std::string now = holder_of(fd_); !now.empty()) holder = now;
            throw Error(ExitCode::Error,
                        {"Gave up waiting for the lock on " + tree.string() + " after " + std::to_string(timeout_seconds) +
                             " s: it is held by " + holder + ".",
                         "If that process is stuck, stop it (kill <pid>) and run the command again; lock_timeout in "
                         "/etc/dkms/framework.conf sets how long to wait."});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    setenv(env_name, (canon.string() + ":" + std::to_string(getpid())).c_str(), 1);
}

TreeLock::~TreeLock() {
    if (fd_ >= 0) close(fd_);
}

}  // namespace dkms
