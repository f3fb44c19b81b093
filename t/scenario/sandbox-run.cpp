// SPDX-License-Identifier: GPL-2.0-or-later
// sandbox-run: runs one command in a dkms::Sandbox the way a build step runs (stdin from /dev/null,
// stdout and stderr appended to a log opened by the parent, a working directory, the environment
// and MAKEFLAGS's jobserver passed on), for t/scenario/confinement.sh and bench/confinement.
//
// sandbox-run [--mode auto|on|off] [--user NAME] [--writable P]... [--readable P]... [--hide P]...
//             [--log FILE] [--cwd DIR] [--deny-unshare] [--repeat N] -- COMMAND [ARG]...
//
// Exits with the command's status (128+signal if killed, 127 if it could not be started). The
// sandbox's warning or error is printed on stderr as dkms-run prints them. --deny-unshare installs
// a seccomp filter first that makes unshare(2) fail with EPERM, as a container's profile does.
// --repeat N prepares a sandbox and runs the command in it N times, and prints the mean wall time of
// one step in microseconds (the kernel's answer is probed once per process, before the first).
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "dkms/core/error.hpp"
#include "dkms/core/report.hpp"
#include "dkms/sys/sandbox.hpp"

extern char** environ;

namespace {

struct StderrReporter : dkms::Reporter {
    void out(std::string_view l) override { std::cout << l << '\n'; }
    void err(std::string_view l) override { std::cerr << l << '\n'; }
    void out_partial(std::string_view t) override { std::cout << t << std::flush; }
};

struct Args {
    dkms::SandboxPolicy policy;
    std::string log, cwd;
    bool deny_unshare = false;
    int repeat = 0;
    std::vector<std::string> argv;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "sandbox-run: " << why << "\n";
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string o = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(o + " needs a value");
            return argv[++i];
        };
        if (o == "--") {
            a.argv.assign(argv + i + 1, argv + argc);
            break;
        }
        if (o == "--mode") {
            auto m = dkms::parse_confinement(value());
            if (!m) usage("--mode is auto, on or off");
            a.policy.mode = *m;
        } else if (o == "--user") a.policy.user = value();
        else if (o == "--writable") a.policy.writable.push_back(value());
        else if (o == "--readable") a.policy.readable.push_back(value());
        else if (o == "--hide") a.policy.hidden.push_back(value());
        else if (o == "--log") a.log = value();
        else if (o == "--cwd") a.cwd = value();
        else if (o == "--deny-unshare") a.deny_unshare = true;
        else if (o == "--repeat") a.repeat = std::stoi(value());
        else usage("unknown option " + o);
    }
    if (a.argv.empty()) usage("no command after --");
    if (const char* mf = getenv("MAKEFLAGS")) a.policy.makeflags = mf;
    return a;
}

// unshare(2) fails with EPERM, everything else is allowed (x86-64 and others with one syscall table).
void deny_unshare() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        std::perror("sandbox-run: seccomp");
        std::exit(2);
    }
}

// One step: fork, redirect, enter, chdir, exec; the parent waits (as run_process does).
int run_once(const Args& a, const dkms::Sandbox& box, const std::vector<char*>& envp) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return 127;
    std::vector<char*> argv;
    for (auto& s : a.argv) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        if (!a.log.empty()) {
            int out = open(a.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
            if (out < 0 || dup2(out, 1) < 0 || dup2(1, 2) < 0) _exit(126);
        }
        box.enter(report[1]);
        int e = 0;
        if (!a.cwd.empty() && chdir(a.cwd.c_str()) != 0) e = errno;
        if (!e) execvpe(argv[0], argv.data(), envp.data()), e = errno;
        (void)!write(report[1], &e, sizeof e);
        _exit(127);
    }
    close(report[1]);
    int err = 0;
    ssize_t n = read(report[0], &err, sizeof err);
    close(report[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (n > 0) {
        std::cerr << "sandbox-run: cannot run " << a.argv[0] << ": " << std::strerror(err) << "\n";
        return 127;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The environment of the step: ours, with the sandbox's MAKEFLAGS.
std::vector<std::string> step_env(const dkms::Sandbox& box) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "MAKEFLAGS=", 10) != 0) env.emplace_back(*e);
    if (!box.makeflags().empty()) env.push_back("MAKEFLAGS=" + box.makeflags());
    return env;
}

// Prepare a sandbox (as each build step would) and run the command in it.
int prepare_and_run(const Args& a, dkms::Reporter& rep) {
    dkms::Sandbox box(a.policy);
    dkms::warn_limits_once(rep, box);
    std::vector<std::string> env = step_env(box);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    return run_once(a, box, envp);
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    if (a.deny_unshare) deny_unshare();
    StderrReporter rep;
    try {
        if (a.repeat <= 0) return prepare_and_run(a, rep);
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < a.repeat; ++i)
            if (int rc = prepare_and_run(a, rep); rc != 0) return rc;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        std::cout << us.count() / a.repeat << "\n";
        return 0;
    } catch (const dkms::Error& e) {
        rep.err("");
        bool first = true;
        for (auto& l : e.lines()) rep.err(first ? "Error! " + l : l), first = false;
        return int(e.code());
    }
}
