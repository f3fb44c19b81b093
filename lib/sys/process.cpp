// SPDX-License-Identifier: GPL-2.0-or-later
// fork/exec with redirections, capture and a progress tick.
#include "dkms/sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "dkms/core/error.hpp"
#include "dkms/core/scope_guard.hpp"
#include "dkms/sys/sandbox.hpp"

extern char** environ;

namespace dkms {

namespace {

std::vector<std::string> build_env(const ProcessSpec& spec) {
    std::set<std::string> drop(spec.unset_env.begin(), spec.unset_env.end());
    for (auto& [k, v] : spec.set_env) drop.insert(k);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos && drop.count(std::string(kv.substr(0, eq)))) continue;
        env.emplace_back(kv);
    }
    for (auto& [k, v] : spec.set_env) env.push_back(k + "=" + v);
    return env;
}

[[noreturn]] void child_fail(int fd, int err) {
    // Report errno to the parent through the close-on-exec pipe, then die.
    (void)!write(fd, &err, sizeof err);
    _exit(127);
}

int open_target(ProcessSpec::Out how, const std::filesystem::path& file, int capture_fd, int given_fd) {
    switch (how) {
        case ProcessSpec::Out::Fd: return given_fd;
        case ProcessSpec::Out::Null: return open("/dev/null", O_WRONLY | O_CLOEXEC);
        case ProcessSpec::Out::AppendFile: return open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        case ProcessSpec::Out::Capture: return capture_fd;
        case ProcessSpec::Out::Inherit: return -1;
    }
    return -1;
}

// The recorded signal and the children to pass it on to (a fixed table: the handler may not allocate).
volatile sig_atomic_t g_signal = 0;
constexpr int kMaxChildren = 128;
std::atomic<pid_t> g_children[kMaxChildren];
const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

void on_signal(int sig) {
    if (g_signal) {
        // Second signal: the user insists. Die the ordinary way.
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_signal = sig;
    // Each child leads a process group of its own: the whole subtree (make's compilers, a script's
    // sleep) is stopped, not only the direct child.
    for (auto& c : g_children)
        if (pid_t p = c.load(); p > 0) kill(-p, sig);
}

int register_child(pid_t pid) {
    for (int i = 0; i < kMaxChildren; ++i) {
        pid_t zero = 0;
        if (g_children[i].compare_exchange_strong(zero, pid)) return i;
    }
    return -1;   // table full (never with our concurrency): that child is just not forwarded to
}

}  // namespace

ProcessRunner& system_processes() {
    struct System final : ProcessRunner {
        ProcessResult run(const ProcessSpec& spec) override { return run_process(spec); }
    };
    static System system;
    return system;
}

ProcessRunner& process_runner(const Context& ctx) { return ctx.processes ? *ctx.processes : system_processes(); }

std::vector<std::string> process_argv(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::vector<std::string> argv;
    for (std::string a; std::getline(in, a, '\0');) argv.push_back(a);
    return argv;
}

void install_interrupt_handlers() {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : kSignals) sigaction(sig, &sa, nullptr);
}

int interrupted_signal() noexcept { return g_signal; }

void throw_if_interrupted() {
    if (int sig = g_signal) throw Interrupted(sig);
}

std::string shell_quote(std::string_view s) {
    std::string r = "'";
    for (char c : s) {
        if (c == '\'') r += "'\\''";
        else r += c;
    }
    return r + "'";
}

std::string shell_word(std::string_view s) {
    if (s.empty()) return "''";
    for (unsigned char c : s)
        if (!std::isalnum(c) && !std::strchr("_./+,:=@%^-", c)) return shell_quote(s);
    return std::string(s);
}

std::filesystem::path find_program(const std::string& name) {
    if (name.find('/') != std::string::npos)
        return access(name.c_str(), X_OK) == 0 ? std::filesystem::path(name) : std::filesystem::path();
    const char* path = getenv("PATH");
    std::string_view p = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    while (true) {
        auto colon = p.find(':');
        std::string dir(p.substr(0, colon));
        if (dir.empty()) dir = ".";
        std::filesystem::path cand = std::filesystem::path(dir) / name;
        if (access(cand.c_str(), X_OK) == 0 && !std::filesystem::is_directory(cand)) return cand;
        if (colon == std::string_view::npos) break;
        p.remove_prefix(colon + 1);
    }
    return {};
}

namespace {

// The pipes of one child: capture (stdout/stderr), stdin text, and the exec-failure report.
struct Pipes {
    int cap[2] = {-1, -1}, in[2] = {-1, -1}, report[2] = {-1, -1};
    // Until the child runs, a failure closes every pipe made so far (no descriptor leaks).
    [[noreturn]] void fail(const char* what) {
        int e = errno;
        for (int fd : {cap[0], cap[1], in[0], in[1], report[0], report[1]})
            if (fd >= 0) close(fd);
        throw SystemError(what, e);
    }
};

// Every descriptor of this process closed (async-signal-safe: system calls only).
void close_all_descriptors() {
    if (syscall(SYS_close_range, 0U, ~0U, 0U) == 0) return;
    struct rlimit rl{};
    int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? int(rl.rlim_cur) : 65536;
    for (int fd = 0; fd < max; ++fd) close(fd);
}

// The guard's answer to the death of the thread that started it: the whole process group (the
// command and all it started: make, compilers) is killed, the guard with it.
void guard_parent_died(int) {
    kill(0, SIGKILL);
}

// die_with_parent, in the forked child (async-signal-safe calls only): this process becomes the
// guard of the command's process group. It asks the kernel for SIGUSR2 when the starting thread
// ends, forks the process that goes on to run the command (this function returns in it), waits for
// it and exits with its status. A dkms-run killed with SIGKILL so leaves no make or compiler
// writing into the tree behind it, not only no shell (PR_SET_PDEATHSIG alone reaches one process).
void be_guard(pid_t parent, const sigset_t& saved, int report_fd) {
    struct sigaction sa{};
    sa.sa_handler = guard_parent_died;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, nullptr);
    if (prctl(PR_SET_PDEATHSIG, SIGUSR2) != 0 || getppid() != parent) kill(0, SIGKILL);  // already gone
    pid_t cmd = fork();
    if (cmd < 0) child_fail(report_fd, errno);
    if (cmd == 0) {
        signal(SIGUSR2, SIG_DFL);  // (the death signal is not inherited by a fork)
        return;
    }
    // The guard never execs, so close-on-exec closes nothing here: it closes every descriptor it
    // inherited, the exec report's too (the command's copy alone tells the parent whether exec
    // worked). Other threads' pipes are among them (autoinstall's concurrent builds), whose readers
    // would otherwise wait for their end until this step ended.
    close_all_descriptors();
    // Signals passed on to the group reach the command; the guard waits for it to end.
    for (int sig : kSignals) signal(sig, SIG_IGN);
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    int st = 0;
    while (waitpid(cmd, &st, 0) < 0)
        if (errno != EINTR) _exit(127);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

// In the child, after fork: only async-signal-safe calls from here on.
[[noreturn]] void exec_child(const ProcessSpec& spec, const Pipes& p, const std::string& prog, char* const* argv,
                             char* const* envp, const sigset_t& saved, pid_t parent) {
    signal(SIGPIPE, SIG_DFL);
    for (int sig : kSignals) signal(sig, SIG_DFL);
    setpgid(0, 0);
    if (spec.die_with_parent) be_guard(parent, saved, p.report[1]);  // returns in the command's process
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    int infd = spec.stdin_text ? p.in[0] : open("/dev/null", O_RDONLY);
    if (infd < 0 || dup2(infd, 0) < 0) child_fail(p.report[1], errno);
    int ofd = open_target(spec.out, spec.out_file, p.cap[1], spec.out_fd);
    if (spec.out != ProcessSpec::Out::Inherit && (ofd < 0 || dup2(ofd, 1) < 0)) child_fail(p.report[1], errno);
    if (spec.err_to_out) {
        if (dup2(1, 2) < 0) child_fail(p.report[1], errno);
    } else {
        int efd = open_target(spec.err, spec.out_file, p.cap[1], spec.out_fd);
        if (spec.err != ProcessSpec::Out::Inherit && (efd < 0 || dup2(efd, 2) < 0)) child_fail(p.report[1], errno);
    }
    // Confined: everything above stays in place (the guard's process group, the descriptors); the
    // sandbox's processes above the step wait for it and pass its status on.
    if (spec.sandbox) spec.sandbox->enter(p.report[1]);
    if (spec.cwd && chdir(spec.cwd->c_str()) != 0) child_fail(p.report[1], errno);
    execve(prog.c_str(), argv, envp);
    child_fail(p.report[1], errno);
}

// Small inputs only (scripts): write all, then close.
void feed_stdin(int fd, const std::string& t) {
    size_t off = 0;
    while (off < t.size()) {
        ssize_t w = write(fd, t.data() + off, t.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += size_t(w);
    }
    close(fd);
}

// The progress tick of a running child (ProcessSpec::on_tick), about every spec.tick.
struct Ticker {
    const ProcessSpec& spec;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point next = start + spec.tick;
    void tick() {
        spec.on_tick(std::chrono::steady_clock::now() - start);
        next += spec.tick;
    }
};

// Everything the child writes to the capture pipe, until it closes it.
std::string read_capture(int fd, Ticker& ticker) {
    std::string out;
    char buf[65536];
    while (true) {
        int timeout = -1;
        if (ticker.spec.on_tick) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ticker.next - std::chrono::steady_clock::now());
            timeout = int(std::max<long>(0, left.count()));
        }
        pollfd pfd{fd, POLLIN, 0};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) {
            ticker.tick();
            continue;
        }
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        out.append(buf, size_t(r));
    }
    close(fd);
    return out;
}

// The exit status of a child as a shell reports it: its code, or 128+signal.
int shell_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 0;
}

// What a timed wait for a child must do besides: tick, and after spec.timeout give its process
// group SIGTERM, then SIGKILL 5 s later.
struct TimedWait {
    using clock = std::chrono::steady_clock;
    Ticker& ticker;
    bool& timed_out;
    const bool limited = ticker.spec.timeout.count() > 0;
    const clock::time_point deadline = ticker.start + ticker.spec.timeout;
    clock::time_point kill_at{};

    // Milliseconds until the next of these is due, for poll (-1: none is).
    int until_next() const {
        auto wake = clock::time_point::max();
        if (ticker.spec.on_tick) wake = std::min(wake, ticker.next);
        if (limited && !timed_out) wake = std::min(wake, deadline);
        if (kill_at != clock::time_point{}) wake = std::min(wake, kill_at);
        if (wake == clock::time_point::max()) return -1;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now()).count() + 1;
        return int(std::clamp<long long>(ms, 0, 24 * 3600 * 1000));
    }
    void due(pid_t pid) {
        const auto now = clock::now();
        if (ticker.spec.on_tick && now >= ticker.next) ticker.tick();
        if (limited && !timed_out && now >= deadline) {
            timed_out = true;
            kill(-pid, SIGTERM);
            kill_at = now + std::chrono::seconds(5);
        } else if (timed_out && kill_at != clock::time_point{} && now >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = {};
        }
    }
};

// Wait for the child, ticking; its exit status, or 128+signal as a shell reports it. After
// spec.timeout (when set) its process group gets SIGTERM, then SIGKILL 5 s later. The child's end
// wakes the wait at once (a pidfd); without pidfds (Linux before 5.3, a seccomp filter) it is
// looked for every 50 ms.
int wait_child(pid_t pid, Ticker& ticker, bool& timed_out) {
    int st = 0;
    if (!ticker.spec.on_tick && ticker.spec.timeout.count() <= 0) {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        return shell_status(st);
    }
    TimedWait tw{ticker, timed_out};
    const int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
    ScopeGuard close_pidfd([pidfd] {
        if (pidfd >= 0) close(pidfd);
    });
    while (true) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) break;
        int ms = tw.until_next();
        if (pidfd < 0) ms = ms < 0 ? 50 : std::min(ms, 50);
        pollfd pfd{pidfd, POLLIN, 0};
        poll(&pfd, pidfd >= 0 ? 1 : 0, ms);
        tw.due(pid);
    }
    if (timed_out) kill(-pid, SIGKILL);  // what the script started and left behind in its group
    return shell_status(st);
}

// fork and exec, called with the signals blocked (`saved`: the mask to restore in the child, once its
// handlers are back to the default); the child leads its own process group. Returns its pid.
pid_t spawn(const ProcessSpec& spec, Pipes& p, const std::filesystem::path& prog, const sigset_t& saved) {
    auto env = build_env(spec);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string progs = prog.string();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) p.fail("fork");
    if (pid == 0) exec_child(spec, p, progs, argv.data(), envp.data(), saved, parent);
    setpgid(pid, pid);   // also here: the group exists before any signal is passed on
    return pid;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
    if (spec.argv.empty()) throw Error(ExitCode::Error, "internal error: empty command");
    if (spec.timeout.count() > 0 && (spec.out == ProcessSpec::Out::Capture || spec.err == ProcessSpec::Out::Capture))
        throw Error(ExitCode::Error, "internal error: a timeout with captured output");
    std::filesystem::path prog = find_program(spec.argv[0]);
    if (prog.empty()) throw SystemError("cannot run " + spec.argv[0], ENOENT);
    throw_if_interrupted();

    Pipes p;
    bool capture = spec.out == ProcessSpec::Out::Capture || spec.err == ProcessSpec::Out::Capture;
    if (capture && pipe2(p.cap, O_CLOEXEC) != 0) p.fail("pipe");
    if (spec.stdin_text && pipe2(p.in, O_CLOEXEC) != 0) p.fail("pipe");
    if (pipe2(p.report, O_CLOEXEC) != 0) p.fail("pipe");
    sigset_t block, saved;
    sigemptyset(&block);
    for (int sig : kSignals) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &saved);  // until the child is registered
    pid_t pid;
    {
        ScopeGuard unblock([&] { pthread_sigmask(SIG_SETMASK, &saved, nullptr); });  // if fork fails
        pid = spawn(spec, p, prog, saved);
        unblock.dismiss();
    }
    int slot = register_child(pid);
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (g_signal) kill(-pid, g_signal);   // arrived between the check above and the registration
    ScopeGuard unregister([slot] {
        if (slot >= 0) g_children[slot].store(0);
    });
    close(p.report[1]);
    if (p.cap[1] >= 0) close(p.cap[1]);
    if (p.in[0] >= 0) close(p.in[0]);

    int child_errno = 0;
    ssize_t n;
    do n = read(p.report[0], &child_errno, sizeof child_errno); while (n < 0 && errno == EINTR);
    close(p.report[0]);
    if (n > 0) {
        if (p.cap[0] >= 0) close(p.cap[0]);
        if (p.in[1] >= 0) close(p.in[1]);
        waitpid(pid, nullptr, 0);
        std::string where = spec.cwd ? " in " + spec.cwd->string() : "";
        throw SystemError("cannot run " + spec.argv[0] + where, child_errno);
    }
    if (p.in[1] >= 0) feed_stdin(p.in[1], *spec.stdin_text);
    ProcessResult res;
    Ticker ticker{spec};
    if (p.cap[0] >= 0) res.out = read_capture(p.cap[0], ticker);
    res.status = wait_child(pid, ticker, res.timed_out);
    throw_if_interrupted();   // the child was (most likely) stopped by the signal passed on to it
    return res;
}

}  // namespace dkms
