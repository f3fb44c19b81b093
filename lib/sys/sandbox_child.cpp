// SPDX-License-Identifier: GPL-2.0-or-later
// The child side of a sandbox: namespaces, mounts, loopback, privileges, the init that ends every
// process of a step, and the subreaper of the fallback. Runs between fork and exec in a child of a
// process that may have threads: system calls only, no allocation, no locks, no exceptions.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox_plan.hpp"

namespace dkms::sandbox_child {

namespace {

using Plan = Sandbox::Plan;
using Op = Sandbox::Op;

// A failed step: what and why. {kNone, 0} is success.
struct Failure {
    int stage = kNone;
    int err = 0;
    explicit operator bool() const { return stage != kNone; }
};

Failure fail(int stage) { return {stage, errno ? errno : EINVAL}; }

[[noreturn]] void report_and_exit(int report_fd, Failure f, bool stage_too) {
    if (stage_too) {
        int msg[2] = {f.stage, f.err};
        (void)!write(report_fd, msg, sizeof msg);
    } else {
        (void)!write(report_fd, &f.err, sizeof f.err);
    }
    _exit(127);
}

// Exit as `st` says the child ended: its status, or 128+signal as a shell reports it.
[[noreturn]] void exit_like(int st) {
    if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
    _exit(128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
}

// Close every descriptor from 3 up but those in `keep` (sorted) and `report_fd`.
void close_other_fds(const std::vector<int>& keep, int report_fd) {
    unsigned from = 3;
    auto close_below = [&](int fd) {
        if (fd < int(from)) return;
        if (fd > int(from)) syscall(SYS_close_range, from, unsigned(fd - 1), 0);
        from = unsigned(fd) + 1;
    };
    // `keep` is sorted; report_fd is merged in on the way.
    bool report_done = report_fd < 3;
    for (int fd : keep) {
        if (!report_done && report_fd < fd) close_below(report_fd), report_done = true;
        if (fd != report_fd) close_below(fd);
        fcntl(fd, F_SETFD, 0);  // the step inherits it, whatever the parent had set
    }
    if (!report_done) close_below(report_fd);
    syscall(SYS_close_range, from, ~0U, 0);
}

// mkdir -p for a mount point inside a tmpfs of ours (EEXIST everywhere else); the last component
// becomes a directory or an empty file.
bool make_mount_point(const char* path, bool is_dir) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf) return errno = ENAMETOOLONG, false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; ++i) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
        buf[i] = '/';
    }
    struct stat st;
    if (lstat(path, &st) == 0) return true;
    if (is_dir) return mkdir(path, 0755) == 0 || errno == EEXIST;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return errno == EEXIST;
    close(fd);
    return true;
}

bool set_attr(int dfd, const char* path, unsigned flags, uint64_t set, uint64_t clr) {
    struct mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clr;
    return mount_setattr(dfd, path, flags, &attr, sizeof attr) == 0;
}

constexpr const char* kHiddenSource = "/tmp/.dkms-run-hidden";
constexpr int kMounted = -2;  // in Plan::tree_fds: a hidden directory's tmpfs, made read-only last

// The private /tmp (and /var/tmp, /dev/shm). The first also holds the empty file that hidden files
// are replaced by: `hidden_src` gets an O_PATH descriptor of it.
Failure private_tmp(const Op& op, int& hidden_src) {
    if (mount("tmpfs", op.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) return fail(kTmpfs);
    if (hidden_src >= 0) return {};
    int fd = open(kHiddenSource, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) return fail(kTmpfs);
    close(fd);
    hidden_src = open(kHiddenSource, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    return hidden_src < 0 ? fail(kTmpfs) : Failure{};
}

Failure hide_file(const Op& op, int hidden_src) {
    if (struct stat st; lstat(op.path.c_str(), &st) != 0) return {};  // gone already (under the private /tmp)
    if (hidden_src < 0) return errno = ENOENT, fail(kHide);
    int fd = open_tree(hidden_src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (fd < 0) return fail(kHide);
    bool ok = set_attr(fd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                  MOUNT_ATTR_NOEXEC, 0) &&
              move_mount(fd, "", AT_FDCWD, op.path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0;
    int e = errno;
    close(fd);
    return ok ? Failure{} : (errno = e, fail(kHide));
}

Failure expose(const Op& op, int fd) {
    const bool rw = op.kind == Op::ExposeRw;
    uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rw ? 0 : MOUNT_ATTR_RDONLY);
    if (!set_attr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, set, 0)) return fail(kExpose);
    if (!make_mount_point(op.path.c_str(), op.is_dir)) return fail(kExpose);
    if (move_mount(fd, "", AT_FDCWD, op.path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) return fail(kExpose);
    return {};
}

// The mount namespace: private propagation, every tree to expose cloned as it is now, the whole
// file system read-only and nosuid, then each op, parents first; the hidden directories become
// read-only once the mount points inside them exist.
Failure setup_mounts(const Plan& plan) {
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(kPrivate);
    for (size_t i = 0; i < plan.ops.size(); ++i) {
        const Op& op = plan.ops[i];
        plan.tree_fds[i] = -1;
        if (op.kind != Op::ExposeRo && op.kind != Op::ExposeRw) continue;
        plan.tree_fds[i] = open_tree(AT_FDCWD, op.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (plan.tree_fds[i] < 0) return fail(kExpose);
    }
    if (!set_attr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0)) return fail(kReadOnly);
    int hidden_src = -1;
    for (size_t i = 0; i < plan.ops.size(); ++i) {
        const Op& op = plan.ops[i];
        Failure f;
        switch (op.kind) {
            case Op::PrivateTmp: f = private_tmp(op, hidden_src); break;
            case Op::HideDir:
                if (struct stat st; lstat(op.path.c_str(), &st) != 0) break;  // gone already (private /tmp)
                if (mount("tmpfs", op.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0)
                    f = fail(kHide);
                plan.tree_fds[i] = kMounted;
                break;
            case Op::HideFile: f = hide_file(op, hidden_src); break;
            case Op::ExposeRo:
            case Op::ExposeRw: f = expose(op, plan.tree_fds[i]); break;
        }
        if (f) return f;
    }
    for (size_t i = 0; i < plan.ops.size(); ++i)
        if (plan.tree_fds[i] == kMounted && !set_attr(AT_FDCWD, plan.ops[i].path.c_str(), 0, MOUNT_ATTR_RDONLY, 0))
            return fail(kHide);
    if (hidden_src >= 0) {
        close(hidden_src);
        unlink(kHiddenSource);  // the mounts keep it; nothing in the sandbox can name it any more
    }
    for (int fd : plan.tree_fds)
        if (fd >= 0) close(fd);
    // A /proc of the new PID namespace: the step sees its own processes only, not those of the
    // host (nor other builds running as the same user).
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) != 0)
        return fail(kProc);
    return {};
}

// The new network namespace has a loopback interface, down: up it goes, and that is all there is.
Failure loopback_up() {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail(kLoopback);
    struct ifreq ifr{};
    memcpy(ifr.ifr_name, "lo", 3);
    bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags = short(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    int e = errno;
    close(s);
    return ok ? Failure{} : (errno = e, fail(kLoopback));
}

// The user's uid and gid, no supplementary groups, no capabilities (an empty bounding set too),
// and no way back (PR_SET_NO_NEW_PRIVS: setuid programs and file capabilities give nothing).
// Raw system calls: glibc's wrappers would try to synchronise threads this child does not have.
Failure drop_privileges(uid_t uid, gid_t gid) {
    for (int cap = 0;; ++cap) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL) break;
        return fail(kPrivileges);
    }
    if (syscall(SYS_setgroups, 0, nullptr) != 0) return fail(kPrivileges);
    if (syscall(SYS_setresgid, gid, gid, gid) != 0) return fail(kPrivileges);
    if (syscall(SYS_setresuid, uid, uid, uid) != 0) return fail(kPrivileges);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(kPrivileges);
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || getegid() != gid)
        return errno = EPERM, fail(kPrivileges);
    return {};
}

// Signals that end a step reach its processes through their process group; the processes that
// only wait for it must outlive them, to report its status and (fallback) clean up after it.
void ignore_stop_signals() {
    struct sigaction sa{};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int wait_for(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 127 << 8;
    return st;
}

// SIGKILL to each process whose parent is us (read from /proc/<pid>/stat); how many were found.
int kill_children() {
    int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return 0;
    const pid_t self = getpid();
    int found = 0;
    char buf[4096];
    for (long n; (n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0;) {
        for (long off = 0; off < n;) {
            auto* d = reinterpret_cast<struct dirent64*>(buf + off);
            off += d->d_reclen;
            pid_t pid = 0;
            const char* p = d->d_name;
            for (; *p >= '0' && *p <= '9'; ++p) pid = pid * 10 + (*p - '0');
            if (*p || pid <= 0) continue;
            char path[32] = "/proc/", stat[512];
            char* q = path + 6;
            char digits[16];
            int k = 0;
            for (pid_t v = pid; v; v /= 10) digits[k++] = char('0' + v % 10);
            while (k) *q++ = digits[--k];
            memcpy(q, "/stat", 6);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t len = read(fd, stat, sizeof stat - 1);
            close(fd);
            if (len <= 0) continue;
            stat[len] = '\0';
            // "pid (comm) S ppid ...": comm may hold anything, so the last ')' ends it.
            char* close_paren = strrchr(stat, ')');
            if (!close_paren || close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ') continue;
            pid_t ppid = 0;
            for (p = close_paren + 4; *p >= '0' && *p <= '9'; ++p) ppid = ppid * 10 + (*p - '0');
            if (ppid == self) ++found, kill(pid, SIGKILL);
        }
    }
    close(dir);
    return found;
}

// The fallback's cleanup: as a subreaper we inherit whatever the step left behind (a daemon's
// double fork, `setsid sleep`); kill our children until none is left, reaping as they go.
void kill_leftovers() {
    while (true) {
        int found = kill_children();
        int st;
        pid_t w;
        bool reaped = false;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) reaped = true;
        if (w < 0 && errno == ECHILD) return;
        if (!found && !reaped) {
            struct timespec ts{0, 1000 * 1000};
            nanosleep(&ts, nullptr);
        }
    }
}

[[noreturn]] void outer_wait(pid_t child, int report_fd, bool subreaper) {
    ignore_stop_signals();
    close(report_fd);
    int st = wait_for(child);
    if (subreaper) kill_leftovers();
    exit_like(st);
}

// PID 1 of the new namespace: set up, start the step, and end with it. When PID 1 exits the
// kernel kills every process left in the namespace (and waits for them before our parent hears).
void run_init(const Plan& plan, int report_fd, bool stage_too) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) report_and_exit(report_fd, fail(kFork), stage_too);
    if (chdir("/") != 0) report_and_exit(report_fd, fail(kPrivate), stage_too);
    if (Failure f = setup_mounts(plan)) report_and_exit(report_fd, f, stage_too);
    if (Failure f = loopback_up()) report_and_exit(report_fd, f, stage_too);
    pid_t step = _Fork();
    if (step < 0) report_and_exit(report_fd, fail(kFork), stage_too);
    if (step == 0) {
        if (Failure f = drop_privileges(plan.uid, plan.gid)) report_and_exit(report_fd, f, stage_too);
        if (plan.probe) _exit(0);
        return;  // the step: its caller execs it
    }
    close(report_fd);
    int st = 0;
    for (pid_t w; (w = waitpid(-1, &st, 0)) != step;)
        if (w < 0 && errno != EINTR) _exit(127);
    exit_like(st);
}

}  // namespace

void enter(const Plan& plan, int report_fd, bool stage_too) noexcept {
    if (plan.level == Sandbox::Level::None) return;
    close_other_fds(plan.keep_fds, report_fd);
    if (plan.level == Sandbox::Level::Privileges) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) report_and_exit(report_fd, fail(kFork), stage_too);
        const pid_t outer = getpid();
        pid_t step = _Fork();
        if (step < 0) report_and_exit(report_fd, fail(kFork), stage_too);
        if (step > 0) outer_wait(step, report_fd, true);
        if (Failure f = drop_privileges(plan.uid, plan.gid)) report_and_exit(report_fd, f, stage_too);
        // Ends with the process that cleans up after it (the death signal is reset by setresuid).
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != outer) _exit(137);
        if (plan.probe) _exit(0);
        return;
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID) != 0)
        report_and_exit(report_fd, fail(kUnshare), stage_too);
    pid_t init = _Fork();
    if (init < 0) report_and_exit(report_fd, fail(kFork), stage_too);
    if (init > 0) outer_wait(init, report_fd, false);
    run_init(plan, report_fd, stage_too);
}

}  // namespace dkms::sandbox_child
