// SPDX-License-Identifier: GPL-2.0-or-later
// The parent side of a sandbox: the user, the kernel's answer (probed once), the paths, the
// jobserver's descriptors, and the plan the child carries out (sandbox_child.cpp).
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "dkms/core/error.hpp"
#include "dkms/core/report.hpp"
#include "sandbox_plan.hpp"

namespace dkms {

namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

const char* stage_text(int stage) {
    switch (stage) {
        case sandbox_child::kUnshare: return "the kernel refused new mount, network, IPC and PID namespaces";
        case sandbox_child::kFork: return "no process could be started in the new PID namespace";
        case sandbox_child::kPrivate: return "the mounts could not be made private";
        case sandbox_child::kReadOnly: return "the file system could not be made read-only";
        case sandbox_child::kTmpfs: return "no private /tmp could be mounted";
        case sandbox_child::kHide: return "a path could not be hidden";
        case sandbox_child::kExpose: return "a directory could not be made visible";
        case sandbox_child::kProc: return "no /proc could be mounted for the new PID namespace";
        case sandbox_child::kLoopback: return "the loopback interface could not be brought up";
        case sandbox_child::kPrivileges: return "privileges could not be dropped";
        default: return "the sandbox could not be set up";
    }
}

// Run `plan` (a probe) in a child and say what failed, "" if nothing did.
std::string try_plan(const Sandbox::Plan& plan) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return std::string("fork: ") + std::strerror(e);
    }
    if (pid == 0) {
        close(report[0]);
        sandbox_child::enter(plan, report[1], true);
        _exit(0);  // Level::None: nothing to try
    }
    close(report[1]);
    int msg[2] = {0, 0};
    ssize_t n;
    do n = read(report[0], msg, sizeof msg); while (n < 0 && errno == EINTR);
    close(report[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (n == ssize_t(sizeof msg)) return std::string(stage_text(msg[0])) + " (" + std::strerror(msg[1]) + ")";
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return "the sandbox's test process ended with status " + std::to_string(st);
    return "";
}

// The private directories: /tmp, /var/tmp and /dev/shm as they resolve here (those that exist).
std::vector<fs::path> private_dirs() {
    std::vector<fs::path> dirs;
    for (const char* d : {"/tmp", "/var/tmp", "/dev/shm"}) {
        std::error_code ec;
        fs::path p = fs::canonical(d, ec);
        if (!ec && fs::is_directory(p, ec) && std::find(dirs.begin(), dirs.end(), p) == dirs.end()) dirs.push_back(p);
    }
    return dirs;
}

int depth_of(const fs::path& p) {
    int n = 0;
    for (auto& c : p.relative_path()) n += !c.empty();
    return n;
}

// Order of kinds at one depth: the private /tmp first (it holds the hidden files' stand-in).
int rank(Sandbox::Op::Kind k) { return k == Sandbox::Op::PrivateTmp ? 0 : 1; }

std::optional<passwd> lookup_user(const std::string& name, std::vector<char>& buf) {
    passwd pw{}, *res = nullptr;
    buf.assign(16384, '\0');
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res) return std::nullopt;
    return pw;
}

// "--jobserver-auth=" (or make 4.1's "--jobserver-fds=") of MAKEFLAGS, the last one as make reads it:
// {position of the value, its length}, or npos.
std::pair<size_t, size_t> auth_span(const std::string& mf) {
    for (const char* key : {"--jobserver-auth=", "--jobserver-fds="}) {
        auto pos = mf.rfind(key);
        if (pos == std::string::npos) continue;
        size_t start = pos + std::strlen(key);
        size_t end = mf.find(' ', start);
        return {start, (end == std::string::npos ? mf.size() : end) - start};
    }
    return {std::string::npos, 0};
}

bool fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) != -1; }

}  // namespace

std::optional<Confinement> parse_confinement(std::string_view s) {
    if (s == "auto") return Confinement::Auto;
    if (s == "on") return Confinement::On;
    if (s == "off") return Confinement::Off;
    return std::nullopt;
}

std::string_view to_string(Confinement c) {
    switch (c) {
        case Confinement::Off: return "off";
        case Confinement::On: return "on";
        case Confinement::Auto: break;
    }
    return "auto";
}

const std::string& namespaces_refused() {
    static std::once_flag once;
    static std::string why;
    std::call_once(once, [] {
        Sandbox::Plan plan;
        plan.level = Sandbox::Level::Namespaces;
        plan.uid = kNobody;
        plan.gid = kNobody;
        plan.probe = true;
        for (auto& d : private_dirs()) plan.ops.push_back({Sandbox::Op::PrivateTmp, d.string(), true, depth_of(d)});
        plan.tree_fds.assign(plan.ops.size(), -1);
        why = try_plan(plan);
    });
    return why;
}

Sandbox::Sandbox(const SandboxPolicy& policy) : makeflags_(policy.makeflags) {
    if (policy.mode == Confinement::Off) return;
    const bool on = policy.mode == Confinement::On;
    const std::string setting = "build_confinement=" + std::string(to_string(policy.mode));
    const std::string fix = "(build_confinement in /etc/dkms/framework.conf)";
    // auto's quiet cases (confinement.md, "Where the package is not installed"): dkms-run run by a
    // user has no privileges to drop (and cannot read root's key), and a machine without the
    // package's user is a checkout, a test or CI, not an installed system: they are not warned about.
    if (geteuid() != 0) {
        if (on) throw Error(ExitCode::Error, {setting + ": cannot confine the build: dkms-run does not run as root.",
                                              "Run it as root, or set build_confinement=auto or off " + fix + "."});
        return;
    }
    // The kernel first (what `on` says is the first thing to fix): namespaces, else (auto) privileges only.
    const std::string& refused = namespaces_refused();
    if (!refused.empty() && on)
        throw Error(ExitCode::Error, {setting + ": cannot confine the build: " + refused + ".",
                                      "Run dkms-run where root may create namespaces (not in a container that forbids "
                                      "them), or set build_confinement=auto or off " + fix + "."});
    // The user: the configured one, else (auto) nobody.
    std::vector<char> buf;
    auto pw = lookup_user(policy.user, buf);
    if (!pw && on)
        throw Error(ExitCode::Error, {setting + ": the user " + policy.user + " does not exist.",
                                      "Reinstall dkms-run (its postinst creates the user), or set build_confinement=auto "
                                      "or off " + fix + "."});
    if (pw && pw->pw_uid == 0)
        throw Error(ExitCode::Error,
                    {setting + ": the user " + policy.user + " is root (uid 0): builds must not run as root.",
                     "Give " + policy.user + " a uid of its own (userdel " + policy.user + "; then reinstall dkms-run)."});
    if (pw) {
        user_ = policy.user;
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
    } else {
        auto nb = lookup_user("nobody", buf);
        user_ = "nobody";
        uid_ = nb ? nb->pw_uid : kNobody;
        gid_ = nb ? nb->pw_gid : kNobody;
    }
    // No user of the package and no namespaces (a checkout, or CI in a container): as dkms, quietly.
    // Privileges alone, as nobody, would protect little (the key by its mode only) and fail where the
    // build directory's parents are private to root (a test's root made by mktemp -d).
    if (!pw && !refused.empty()) {
        user_.clear();
        uid_ = gid_ = 0;
        return;
    }
    level_ = refused.empty() ? Level::Namespaces : Level::Privileges;
    if (!refused.empty()) {
        limits_.push_back(setting + ": builds are not confined: " + refused + ".");
        limits_.push_back("They run as " + user_ + " (uid " + std::to_string(uid_) +
                          ") without privileges, but see the network, share /tmp, may write wherever that user may, "
                          "and the signing key is protected by its permissions only.");
        if (std::error_code ec; !fs::is_directory("/proc/self", ec))
            limits_.push_back("Without /proc, processes a build leaves behind are not ended.");
    }
    plan_ = std::make_unique<Plan>();
    plan_->level = level_;
    plan_->uid = uid_;
    plan_->gid = gid_;
    pass_jobserver();
    if (level_ == Level::Namespaces) plan_paths(policy);
    plan_->tree_fds.assign(plan_->ops.size(), -1);
}

Sandbox::~Sandbox() {
    if (fifo_fd_ >= 0) close(fifo_fd_);
}

// The jobserver's descriptors stay open in the step; a fifo is opened here (the private /tmp hides
// it, and make creates it for root only) and named by its descriptor.
void Sandbox::pass_jobserver() {
    auto [pos, len] = auth_span(makeflags_);
    if (pos == std::string::npos) return;
    std::string auth = makeflags_.substr(pos, len);
    if (auth.rfind("fifo:", 0) == 0) {
        fifo_fd_ = open(auth.c_str() + 5, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fifo_fd_ < 0) return;  // make will say "jobserver unavailable" and build serially
        // make expects a blocking descriptor (it waits in pselect, then reads).
        fcntl(fifo_fd_, F_SETFL, fcntl(fifo_fd_, F_GETFL) & ~O_NONBLOCK);
        std::string n = std::to_string(fifo_fd_);
        makeflags_.replace(pos, len, n + "," + n);
        plan_->keep_fds.push_back(fifo_fd_);
        return;
    }
    auto comma = auth.find(',');
    if (comma == std::string::npos) return;
    for (auto s : {auth.substr(0, comma), auth.substr(comma + 1)}) {
        int fd = -1;
        try {
            fd = std::stoi(s);
        } catch (const std::exception&) {
            continue;
        }
        if (fd_open(fd)) plan_->keep_fds.push_back(fd);
    }
    std::sort(plan_->keep_fds.begin(), plan_->keep_fds.end());
    plan_->keep_fds.erase(std::unique(plan_->keep_fds.begin(), plan_->keep_fds.end()), plan_->keep_fds.end());
}

// The mount operations: each path resolved as the host sees it now, parents before children.
void Sandbox::plan_paths(const SandboxPolicy& policy) {
    std::vector<Op>& ops = plan_->ops;
    auto add = [&](Op::Kind kind, const fs::path& given) {
        std::error_code ec;
        fs::path p = fs::canonical(given, ec);
        if (ec) return;  // absent: nothing to hide or show
        if (p == "/")
            throw Error(ExitCode::Error, "internal error: the sandbox cannot " +
                                             std::string(kind == Op::HideDir ? "hide" : "expose") + " /");
        for (auto& o : ops)
            if (o.path == p.string()) {
                if (o.kind == kind) return;
                throw Error(ExitCode::Error, "internal error: " + p.string() + " is given twice to the sandbox");
            }
        bool dir = fs::is_directory(p, ec);
        if (kind == Op::HideDir && !dir) kind = Op::HideFile;
        ops.push_back({kind, p.string(), dir, depth_of(p)});
    };
    for (auto& d : private_dirs()) add(Op::PrivateTmp, d);
    for (auto& p : policy.writable) add(Op::ExposeRw, p);
    for (auto& p : policy.readable) add(Op::ExposeRo, p);
    for (auto& p : policy.hidden) add(Op::HideDir, p);
    std::stable_sort(ops.begin(), ops.end(), [](const Op& a, const Op& b) {
        return a.depth != b.depth ? a.depth < b.depth : rank(a.kind) < rank(b.kind);
    });
}

void Sandbox::enter(int report_fd) const noexcept {
    if (plan_) sandbox_child::enter(*plan_, report_fd, false);
}

void warn_limits_once(Reporter& r, const Sandbox& box) {
    static std::atomic<bool> said{false};
    if (box.limits().empty() || said.exchange(true)) return;
    bool first = true;
    for (auto& l : box.limits()) r.err(first ? "Warning: " + l : l), first = false;
}

}  // namespace dkms
