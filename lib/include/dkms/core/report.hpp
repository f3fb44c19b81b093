// SPDX-License-Identifier: GPL-2.0-or-later
// The sink through which the engine talks to the user; front ends decide where lines go.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace dkms {

/// Work in progress, for a front end that draws it on a terminal (runtime/progress.cpp renders the
/// events as dkms-run always has); the engine itself never draws. None of it is output: a front end
/// without a terminal ignores every event, and once a drawing is taken away the screen holds exactly
/// the lines printed.
struct ProgressEvent {
    enum class Kind {
        StepStarted,     ///< a logged step began (its "<text>..." is printed); `label` is what it builds
        StepTicked,      ///< about every second while that step runs (only when interactive()): `elapsed`
        StepFinished,    ///< the step's program ended; its " done." (or its failure) is printed next
        BuildsStarted,   ///< autoinstall starts building modules for kernel `text`
        ModuleStarted,   ///< module `text` started building
        ModuleFinished,  ///< module `text` finished building
        Waiting,         ///< builds are running, `waiting` more have not started: show them
        Hold,            ///< lines are about to be printed: take away what is drawn
    };
    Kind kind;
    std::string text{};
    std::string label{};
    std::chrono::steady_clock::duration elapsed{};
    std::size_t waiting = 0;
};

/// dkms prints normal progress on stdout and Error!/Warning:/Deprecated lines on stderr,
/// and the two are interleaved line by line. The engine never writes to a stream itself.
class Reporter {
public:
    virtual ~Reporter() = default;
    /// A line for stdout (without the newline).
    virtual void out(std::string_view line) = 0;
    /// A line for stderr (without the newline).
    virtual void err(std::string_view line) = 0;
    /// Text for stdout with no newline (for "Building module(s)..." before " done.").
    virtual void out_partial(std::string_view text) = 0;
    /// Verbose-only line (stdout).
    virtual void verbose(std::string_view line) { if (verbose_) out(line); }
    bool is_verbose() const { return verbose_; }
    void set_verbose(bool v) { verbose_ = v; }
    /// true when stdout is a terminal and progress may be drawn (the engine then sends StepTicked events).
    virtual bool interactive() const { return false; }
    /// Width of that terminal in columns (a progress line must fit in it to be redrawn in place).
    virtual int columns() const { return 80; }
    /// A progress event (see ProgressEvent); ignored unless a front end draws them.
    virtual void progress(const ProgressEvent&) {}

    void warning(std::string_view msg) { err(std::string("Warning: ").append(msg)); }
    /// A warning of several lines, as dkms's warn prints them: "Warning: " before the first only.
    void warning(std::initializer_list<std::string_view> lines) {
        bool first = true;
        for (auto l : lines) err(first ? std::string("Warning: ").append(l) : std::string(l)), first = false;
    }

private:
    bool verbose_ = false;
};

/// A reporter that drops everything (for library users that do not care).
class NullReporter : public Reporter {
public:
    void out(std::string_view) override {}
    void err(std::string_view) override {}
    void out_partial(std::string_view) override {}
};

}  // namespace dkms
