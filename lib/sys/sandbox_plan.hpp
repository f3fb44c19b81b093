// SPDX-License-Identifier: GPL-2.0-or-later
// What a sandboxed child does, prepared by the parent (sandbox.cpp) and carried out after fork
// (sandbox_child.cpp) with system calls only.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "dkms/sys/sandbox.hpp"

namespace dkms {

struct Sandbox::Op {
    enum Kind {
        PrivateTmp,  ///< an empty tmpfs everyone may write (sticky), as /tmp is
        HideDir,     ///< an empty read-only tmpfs over a directory
        HideFile,    ///< an empty file of mode 000, read-only, over a file
        ExposeRo,    ///< a copy of the host's tree, read-only (inside a hidden or private directory)
        ExposeRw,    ///< a copy of the host's tree as it is (writable)
    } kind;
    std::string path;     ///< canonical, absolute
    bool is_dir = true;   ///< for Expose*: the kind of mount point to make when it is missing
    int depth = 0;        ///< number of components: parents are mounted before their children
};

struct Sandbox::Plan {
    Level level = Level::None;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<Op> ops;            ///< sorted: by depth, private /tmp first at each depth
    std::vector<int> keep_fds;      ///< sorted: descriptors the step inherits besides 0, 1, 2
    /// One per op, filled in the child (the trees to expose are cloned before anything changes).
    mutable std::vector<int> tree_fds;
    /// The probe: set everything up, drop privileges, and end (status 0) instead of returning.
    bool probe = false;
};

namespace sandbox_child {

/// The step of the setup that failed, for the probe's message.
enum Stage : int {
    kNone = 0,
    kUnshare,
    kFork,
    kPrivate,
    kReadOnly,
    kTmpfs,
    kHide,
    kExpose,
    kProc,
    kLoopback,
    kPrivileges,
    kStages
};

/// Carries out `plan` (see Sandbox::enter). With `stage_too`, a failure writes {stage, errno} to
/// `report_fd` instead of errno alone.
void enter(const Sandbox::Plan& plan, int report_fd, bool stage_too) noexcept;

}  // namespace sandbox_child

}  // namespace dkms
