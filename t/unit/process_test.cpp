// SPDX-License-Identifier: GPL-2.0-or-later
// run_process: what a build step leaves behind when the dkms-run that started it is killed.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "dkms/sys/process.hpp"
#include "support.hpp"

using namespace dkms;

namespace {

// Is p a live process (not gone, not a zombie waiting for init to reap it)?
bool running(pid_t p) {
    std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
    std::string s;
    if (!std::getline(stat, s)) return false;
    auto close = s.rfind(')');
    return close != std::string::npos && close + 2 < s.size() && s[close + 2] != 'Z';
}

// The pid a file names once the file is complete (a line ending in a newline); 0 on timeout.
pid_t wait_for_pid(const std::string& file) {
    for (int i = 0; i < 500; ++i) {
        std::ifstream in(file);
        std::string s;
        if (std::getline(in, s) && !in.eof() && !s.empty()) return pid_t(std::stol(s));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

}  // namespace

TEST_CASE("a killed dkms-run leaves no process of its build step running", "[process]") {
    char dir[] = "/tmp/dkms-process-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string pidfile = std::string(dir) + "/pid";
    for (bool die_with_parent : {true, false}) {
        unlink(pidfile.c_str());
        // The "dkms-run": a process that runs a step whose shell starts a long child (as make starts
        // compilers), and is then killed with SIGKILL.
        pid_t runner = fork();
        REQUIRE(runner >= 0);
        if (runner == 0) {
            ProcessSpec p;
            p.argv = {"bash", "-c", "sleep 60 & echo $! > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; wait", pidfile};
            p.out = ProcessSpec::Out::Null;
            p.err = ProcessSpec::Out::Null;
            p.die_with_parent = die_with_parent;
            try {
                run_process(p);
            } catch (...) {
            }
            _exit(0);
        }
        pid_t grandchild = wait_for_pid(pidfile);
        REQUIRE(grandchild > 0);
        REQUIRE(running(grandchild));
        kill(runner, SIGKILL);
        int st = 0;
        waitpid(runner, &st, 0);
        bool gone = false;
        for (int i = 0; i < 300 && !(gone = !running(grandchild)); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (die_with_parent) {
            CHECK(gone);  // the whole step, with whatever it started, ends with the dkms-run
        } else {
            CHECK(!gone);  // without the flag the step outlives it: the control
            kill(grandchild, SIGKILL);
        }
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a build step's guard keeps no descriptor of the process that started it", "[process]") {
    // Autoinstall builds on several threads: another thread's pipe (its build's output, its exec
    // report) is open in dkms-run when this step forks its guard. The guard never execs, so the
    // pipe's close-on-exec does not close its copy; if it kept it, that other build would wait for
    // the pipe's end until this step ended (a stall seen under the sanitizers, and a deadlock if two
    // builds held each other's).
    int other[2];
    REQUIRE(pipe2(other, O_CLOEXEC) == 0);
    char dir[] = "/tmp/dkms-process-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string started = std::string(dir) + "/started";
    std::thread step([&] {
        ProcessSpec p;
        p.argv = {"sh", "-c", "touch \"$0\"; sleep 6", started};
        p.out = ProcessSpec::Out::Null;
        p.err = ProcessSpec::Out::Null;
        p.die_with_parent = true;
        run_process(p);
    });
    for (int i = 0; i < 1000 && !std::filesystem::exists(started); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(started));
    close(other[1]);
    // The other thread's reader sees the end of its pipe now, not when the step ends.
    pollfd pfd{other[0], POLLIN, 0};
    int ready = poll(&pfd, 1, 3000);
    char c;
    CHECK(ready == 1);
    CHECK(read(other[0], &c, 1) == 0);
    step.join();
    close(other[0]);
    std::filesystem::remove_all(dir);
}

TEST_CASE("run_process: the exit status, and 128 + the signal for a process killed by one", "[process]") {
    ProcessSpec ok;
    ok.argv = {"sh", "-c", "exit 0"};
    CHECK(run_process(ok).status == 0);
    ProcessSpec three;
    three.argv = {"sh", "-c", "exit 3"};
    CHECK(run_process(three).status == 3);
    // A compiler killed by the OOM killer (SIGKILL) or by a signal sent to it is a failure, not a success.
    for (int sig : {SIGKILL, SIGTERM, SIGSEGV}) {
        INFO("signal " << sig);
        ProcessSpec killed;
        killed.argv = {"sh", "-c", "kill -" + std::to_string(sig) + " $$"};
        ProcessResult r = run_process(killed);
        CHECK(r.status == 128 + sig);
        CHECK_FALSE(r.ok());
    }
}

TEST_CASE("a process past its timeout is stopped with all it started", "[process]") {
    char dir[] = "/tmp/dkms-process-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string pidfile = std::string(dir) + "/pid";
    // A script that hangs, and a helper it started in the background (same process group).
    ProcessSpec p;
    p.argv = {"sh", "-c", "sleep 60 & echo $! > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; sleep 60", pidfile};
    p.out = ProcessSpec::Out::Null;
    p.timeout = std::chrono::seconds(1);
    auto start = std::chrono::steady_clock::now();
    ProcessResult r = run_process(p);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.timed_out);
    CHECK(r.status == 128 + SIGTERM);
    CHECK(took < std::chrono::seconds(30));
    pid_t helper = wait_for_pid(pidfile);
    REQUIRE(helper > 0);
    bool gone = false;
    for (int i = 0; i < 300 && !(gone = !running(helper)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(gone);
    if (!gone) kill(helper, SIGKILL);

    // Within its time, a process is not touched.
    ProcessSpec quick;
    quick.argv = {"sh", "-c", "exit 4"};
    quick.out = ProcessSpec::Out::Null;
    quick.timeout = std::chrono::seconds(30);
    ProcessResult q = run_process(quick);
    CHECK_FALSE(q.timed_out);
    CHECK(q.status == 4);
    std::filesystem::remove_all(dir);
}

namespace {

// In a child: pidfd_open refused with ENOSYS (as by a container's seccomp filter, or Linux < 5.3),
// then a timed wait for a quick command and for one that outlives its timeout. Exit 0 when both
// behave; else a code naming what did not.
[[noreturn]] void timed_waits_without_pidfd() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) _exit(2);
    if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS) _exit(3);
    try {
        ProcessSpec quick;
        quick.argv = {"sh", "-c", "exit 7"};
        quick.out = quick.err = ProcessSpec::Out::Null;
        quick.timeout = std::chrono::seconds(60);
        ProcessResult r = run_process(quick);
        if (r.status != 7 || r.timed_out) _exit(4);
        ProcessSpec slow;
        slow.argv = {"sleep", "60"};
        slow.out = slow.err = ProcessSpec::Out::Null;
        slow.timeout = std::chrono::seconds(1);
        r = run_process(slow);
        if (!r.timed_out || r.status != 128 + SIGTERM) _exit(5);
    } catch (...) {
        _exit(6);
    }
    _exit(0);
}

}  // namespace

TEST_CASE("without pidfds a timed wait still ends with its command, and a timeout still stops it", "[process]") {
#if defined(__x86_64__)
    // The wait polls then (every 50 ms): the fallback of a system where pidfd_open is refused.
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) timed_waits_without_pidfd();
    int st = 0;
    REQUIRE(waitpid(child, &st, 0) == child);
    REQUIRE(WIFEXITED(st));
    if (WEXITSTATUS(st) == 2) {
        WARN("no seccomp filter can be installed here (a container's own filter?): not tried");
        return;
    }
    CHECK(WEXITSTATUS(st) == 0);  // 3: filter not applied; 4: the quick command; 5: the timeout
#else
    SUCCEED("the seccomp filter of this test is written for x86_64");
#endif
}
