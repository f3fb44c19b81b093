// SPDX-License-Identifier: GPL-2.0-or-later
// The writer lock of a dkms tree: writers are serialised, readers never take it.
#pragma once

#include <filesystem>

#include "dkms/report.hpp"

namespace dkms {

/// An exclusive flock(2) on <dkms_tree>/.dkms-run.lock, held for the object's lifetime.
/// The kernel drops it when the process dies, so a killed run never leaves a stale lock.
/// The descriptor is inherited by the processes the run starts (make, compilers, scripts):
/// orphans of a killed run keep the tree locked until they exit, so no writer interleaves with them.
/// Child processes see DKMS_RUN_LOCKED=<tree> and a nested dkms-run on the same tree does not
/// wait for its parent. When the tree does not exist yet it is created first.
class TreeLock {
public:
    TreeLock(const std::filesystem::path& dkms_tree, Reporter& report);
    ~TreeLock();
    TreeLock(const TreeLock&) = delete;
    TreeLock& operator=(const TreeLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace dkms
