// SPDX-License-Identifier: GPL-2.0-or-later
// Confinement of a module's build steps: an unprivileged user, a read-only system, a private /tmp,
// no network, the signing key hidden, and no process left when the step ends.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dkms {

class Reporter;

/// framework.conf's build_confinement.
enum class Confinement {
    Off,   ///< run as root, unconfined (as dkms does)
    Auto,  ///< confine when the kernel allows it, else only drop privileges (and say so once)
    On,    ///< confine or fail
};

/// "off", "auto", "on"; nullopt for anything else.
std::optional<Confinement> parse_confinement(std::string_view s);
std::string_view to_string(Confinement c);

/// The user a confined step runs as when framework.conf names none (created by the package).
inline constexpr const char* kBuildUser = "_dkms-run";

/// What a step may see and change. Every path is taken as it is on the host (symbolic links resolved
/// when the sandbox is prepared); a path that does not exist is ignored.
struct SandboxPolicy {
    Confinement mode = Confinement::Auto;
    std::string user = kBuildUser;     ///< the unprivileged user (and its primary group)
    /// Writable, and visible even inside a hidden directory (the build directory). Everything
    /// else is read-only, but for a private, empty /tmp, /var/tmp and /dev/shm.
    std::vector<std::filesystem::path> writable;
    /// Read-only, and visible even inside a hidden directory or the private /tmp.
    std::vector<std::filesystem::path> readable;
    /// Hidden: a directory is replaced by an empty one, a file by an empty file nobody may open
    /// (its contents cannot be reached from inside, whatever its permissions).
    std::vector<std::filesystem::path> hidden;
    /// MAKEFLAGS of the step, when it joins a jobserver ("... --jobserver-auth=R,W" or
    /// "--jobserver-auth=fifo:PATH"): the descriptors R and W stay open in the step, and a fifo
    /// (which the private /tmp would hide, and which only root may open) is opened here and passed
    /// as a descriptor. Use makeflags() for the step's MAKEFLAGS.
    std::string makeflags;
};

/// A sandbox prepared in the parent. Everything is decided, looked up and allocated here; the
/// forked child then only makes system calls (enter() is async-signal-safe, as a child of a
/// process with threads must be).
///
/// What each level does:
/// * Namespaces: new mount, network, IPC and PID namespaces; the whole file system read-only and
///   nosuid but for `writable`, a private /tmp, /var/tmp and /dev/shm, `hidden` replaced, a /proc
///   of the new PID namespace; only a loopback interface (up); then the user's uid and gid, no
///   supplementary groups, an empty capability bounding set and PR_SET_NO_NEW_PRIVS. The step runs
///   under a small init (PID 1) that the kernel kills, with everything left in the namespace, when
///   the step's first process ends.
/// * Privileges: the user's uid and gid, no capabilities, PR_SET_NO_NEW_PRIVS; the processes the
///   step leaves behind are killed when it ends (a subreaper). Used by Auto when the kernel refuses
///   namespaces; limits() says what is then missing.
/// * None: the step runs as the caller (Off; and Auto, quietly, when dkms-run does not run as root,
///   or when the user does not exist and the kernel refuses namespaces: a checkout, a test, CI).
///
/// Auto says nothing when the user does not exist (the package creates it: a machine without it is
/// not one where dkms-run is installed) and confines as nobody where the kernel allows namespaces.
class Sandbox {
public:
    enum class Level { None, Privileges, Namespaces };

    /// Throws Error when `policy.mode` is On and the step cannot be confined (no such user, the
    /// kernel refuses namespaces), or when a path cannot be resolved.
    explicit Sandbox(const SandboxPolicy& policy);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    /// In the forked child, with stdin, stdout and stderr already in place, before chdir and exec:
    /// closes every other descriptor (but the jobserver's and `report_fd`), enters the sandbox, and
    /// returns in the process that is to exec the step. The processes above it never return: they
    /// wait and _exit() with the step's status (128+signal when it was killed). A failure before the
    /// step runs writes its errno to `report_fd` (close-on-exec) and ends with status 127, as a
    /// failed exec does.
    void enter(int report_fd) const noexcept;

    Level level() const { return level_; }
    uid_t uid() const { return uid_; }
    gid_t gid() const { return gid_; }
    /// The user the step runs as ("nobody" when the configured one does not exist; "" when the step
    /// runs as the caller).
    const std::string& user() const { return user_; }
    /// What could not be done, as lines for a warning; empty when the step is confined as asked.
    const std::vector<std::string>& limits() const { return limits_; }
    /// MAKEFLAGS for the step (the policy's, with a fifo jobserver turned into a descriptor).
    const std::string& makeflags() const { return makeflags_; }

    struct Op;    ///< one mount operation (private to the implementation)
    struct Plan;  ///< what the child does, prepared here

private:
    void pass_jobserver();
    void plan_paths(const SandboxPolicy& policy);

    Level level_ = Level::None;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    std::string user_;
    std::vector<std::string> limits_;
    std::string makeflags_;
    int fifo_fd_ = -1;
    std::unique_ptr<Plan> plan_;  ///< also freed when the constructor throws after making it
};

/// Prints `box.limits()` as a warning through `r`, the first time in this process only (a
/// transaction builds many modules; the reason is the same for all of them).
void warn_limits_once(Reporter& r, const Sandbox& box);

/// Why the kernel refuses namespaces to this process ("" when it allows them): tried once per
/// process, in a child, with the same steps as a real sandbox (cached).
const std::string& namespaces_refused();

}  // namespace dkms
