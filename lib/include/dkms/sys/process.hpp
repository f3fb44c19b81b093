// SPDX-License-Identifier: GPL-2.0-or-later
// Spawning child processes: the only place the engine forks.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"

namespace dkms {

class Sandbox;

/// What to run and how.
struct ProcessSpec {
    std::vector<std::string> argv;                  ///< argv[0] is looked up in PATH when it has no '/'
    std::optional<std::filesystem::path> cwd;       ///< working directory (default: ours)
    std::vector<std::string> unset_env;             ///< variables removed from the environment
    std::vector<std::pair<std::string, std::string>> set_env;  ///< variables added or replaced
    /// stdin: /dev/null unless given as text.
    std::optional<std::string> stdin_text;
    enum class Out { Inherit, Null, Capture, AppendFile, Fd } out = Out::Capture, err = Out::Inherit;
    std::filesystem::path out_file;                 ///< for AppendFile (stdout and, if err is AppendFile, stderr)
    int out_fd = -1;                                ///< for Fd: a descriptor of the caller's (stays open)
    bool err_to_out = false;                        ///< 2>&1 (into whatever stdout is)
    /// Called about every `tick` while the child runs (progress display). May be empty.
    std::function<void(std::chrono::steady_clock::duration)> on_tick;
    std::chrono::milliseconds tick{1000};
    /// The child gets SIGKILL when the thread that started it ends, so that a killed dkms-run leaves
    /// no make running in the tree behind it (it no longer holds the tree lock: see TreeLock).
    bool die_with_parent = false;
    /// Run confined (a build step): the child enters this sandbox once stdin, stdout and stderr are
    /// in place, before chdir and exec (docs/confinement.md). Must outlive the call. nullptr: as we are.
    const Sandbox* sandbox = nullptr;
    /// Stop the child after this long (0: never): SIGTERM to its whole process group, SIGKILL a few
    /// seconds later if anything is left. For the dkms.conf scripts that run outside a build (not
    /// with Out::Capture, whose reading waits for the end of the output).
    std::chrono::seconds timeout{0};
};

struct ProcessResult {
    int status = 0;            ///< exit status, or 128+signal as a shell reports it
    std::string out;           ///< captured stdout (Capture only)
    bool timed_out = false;    ///< stopped after ProcessSpec::timeout (status is then 128+SIGTERM or SIGKILL)
    bool ok() const { return status == 0; }
};

/// Run and wait. Throws SystemError if the program cannot be started at all
/// (then status would be 127 in a shell); a program that runs and fails returns its status.
ProcessResult run_process(const ProcessSpec& spec);

/// The seam between the engine and the programs it runs: every process an operation starts goes
/// through the runner of its Context, so that unit tests can record the calls and script their
/// results (t/unit/fake_processes.hpp) without make, kernel headers or root.
class ProcessRunner {
public:
    virtual ~ProcessRunner() = default;
    /// As run_process. May be called from several threads at once (autoinstall's builds).
    virtual ProcessResult run(const ProcessSpec& spec) = 0;
};

/// The real system: run_process.
ProcessRunner& system_processes();

/// The runner of `ctx` (its own, else system_processes()).
ProcessRunner& process_runner(const Context& ctx);

/// run_process through the runner of `ctx`: how the engine runs a program.
inline ProcessResult run_process(const Context& ctx, const ProcessSpec& spec) { return process_runner(ctx).run(spec); }

/// Handle SIGINT, SIGTERM and SIGHUP: the first one is recorded and sent on to the children that
/// run_process is waiting for (make, bash, dpkg-deb ...); run_process and the tree copies then throw
/// Interrupted, so the stack unwinds and every TempDir is removed before the front end exits.
/// A second signal ends the process at once (the default action). For front ends (main) only.
void install_interrupt_handlers();
/// The signal recorded by the handlers, 0 if none arrived.
int interrupted_signal() noexcept;
/// Throws Interrupted if a signal arrived.
void throw_if_interrupted();

/// Find a program in PATH; empty if absent.
std::filesystem::path find_program(const std::string& name);

/// Quote a string for bash (single quotes), so that it survives as one word.
std::string shell_quote(std::string_view s);

/// The argument vector of process `pid` (from /proc/<pid>/cmdline); empty when it cannot be
/// read (no /proc, the process is gone, or it is a kernel thread).
std::vector<std::string> process_argv(int pid);

/// `s` as one bash word: unchanged when it has only characters without a meaning to the shell
/// (letters, digits, `_ . / + , : = @ % ^ -`, as in every ordinary path), else shell_quote(s).
std::string shell_word(std::string_view s);

}  // namespace dkms
