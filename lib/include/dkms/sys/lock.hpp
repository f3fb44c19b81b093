// SPDX-License-Identifier: GPL-2.0-or-later
// The writer lock of a dkms tree: writers are serialised, readers never take it.
#pragma once

#include <filesystem>

#include "dkms/core/report.hpp"

namespace dkms {

/// An exclusive flock(2) on <dkms_tree>/.dkms-run.lock, held for the object's lifetime.
/// The kernel drops it when the process dies, so a killed run never leaves a stale lock, and the
/// descriptor is close-on-exec: no process the run starts (make, scripts, what they leave running in
/// the background) ever holds it. A writer that finds the tree locked says who holds it (pid and
/// command line, from /proc/locks), waits, and gives up after `timeout_seconds`; a signal ends the
/// wait at once. Processes the run starts see DKMS_RUN_LOCKED=<tree>:<pid>: a nested dkms-run on the
/// same tree whose ancestor is that pid does not wait for it; any other process takes the lock.
/// When the tree does not exist yet it is created first.
class TreeLock {
public:
    TreeLock(const std::filesystem::path& dkms_tree, Reporter& report, int timeout_seconds = 300);
    ~TreeLock();
    TreeLock(const TreeLock&) = delete;
    TreeLock& operator=(const TreeLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace dkms
