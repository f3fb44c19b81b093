// SPDX-License-Identifier: GPL-2.0-or-later
// flock-based writer lock on the dkms tree.
#include "dkms/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "dkms/error.hpp"

namespace dkms {

TreeLock::TreeLock(const std::filesystem::path& tree, Reporter& report) {
    std::error_code ec;
    std::filesystem::path canon = std::filesystem::weakly_canonical(tree, ec);
    if (const char* held = getenv("DKMS_RUN_LOCKED"); held && canon.string() == held) return;
    std::filesystem::create_directories(tree, ec);
    if (ec) {
        if (ec.value() == EACCES || ec.value() == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + tree.string());
        throw SystemError("cannot create " + tree.string(), ec.value());
    }
    std::filesystem::path p = tree / ".dkms-run.lock";
    // Not close-on-exec: every process we start (make and the compilers below it) holds the
    // lock too, so if we are killed, no other writer starts while our orphans still write
    // into the tree; the lock goes away with the last of them.
    // O_NOFOLLOW: a symlink planted as the lock would have us create or lock a file anywhere.
    fd_ = open(p.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW, 0644);
    if (fd_ < 0) {
        if (errno == ELOOP)
            throw Error(ExitCode::Error, {p.string() + " is a symbolic link; the lock file must be a plain file.",
                                          "Remove it (rm " + p.string() + ") if it was not made on purpose."});
        if (errno == EACCES || errno == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + tree.string());
        throw SystemError("cannot open " + p.string(), errno);
    }
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) throw SystemError("cannot lock " + p.string(), errno);
        report.err("Waiting for another dkms-run working on " + tree.string() + " to finish...");
        while (flock(fd_, LOCK_EX) != 0)
            if (errno != EINTR) throw SystemError("cannot lock " + p.string(), errno);
    }
    setenv("DKMS_RUN_LOCKED", canon.string().c_str(), 1);
}

TreeLock::~TreeLock() {
    if (fd_ >= 0) close(fd_);
}

}  // namespace dkms
