// SPDX-License-Identifier: GPL-2.0-or-later
// Autoinstall's scheduler: module builds on worker threads, in BUILD_DEPENDS order, under one job budget.
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dkms/core/report.hpp"
#include "dkms/sys/jobserver.hpp"

namespace dkms {

/// Runs tasks (module builds) on worker threads, in dependency order, under one job budget.
///
/// A task starts when every name in its `deps` is settled (given as settled, or a task of that name
/// finished and `finish` said so) and a job slot is free: the process's own implicit slot first, then
/// a token of the jobserver. Ready tasks start in the order given. `work` runs on the task's own
/// thread; everything else (`start`, `finish`, `close`) on the thread that called run(), one at a
/// time, in the order the tasks complete. A task whose dependencies never settle (one failed, or is
/// not there at all) never starts: never_started() lists it with what it still waits for.
///
/// Progress events go to `progress`: ModuleStarted/ModuleFinished (the task's label), Waiting while
/// tasks run (every second on a terminal), Hold before `finish` and `close` print anything.
class BuildScheduler {
public:
    struct Task {
        std::string name;               ///< what other tasks' deps name (the module)
        std::string label;              ///< for progress events ("m/v")
        std::vector<std::string> deps;  ///< names that must be settled before it starts
    };
    struct Hooks {
        std::function<void(std::size_t)> start;        ///< before task i's thread starts
        std::function<int(std::size_t)> work;          ///< task i's work on its thread; its result
        std::function<bool(std::size_t, int)> finish;  ///< task i's result: true when its name is now settled
        /// After finish: `last` when nothing runs any more and nothing else can start.
        std::function<void(std::size_t, bool last)> close;
    };

    BuildScheduler(std::vector<Task> tasks, std::set<std::string> settled, Jobserver& slots, Reporter& progress);

    /// Run every task that can run; returns when nothing runs and nothing else can start. An exception
    /// escaping `work` stops new starts; once the running tasks are done it is thrown again here.
    void run(const Hooks& hooks);

    /// The tasks that never started, each with the dependencies it still waits for.
    std::vector<std::pair<std::size_t, std::vector<std::string>>> never_started() const;
    /// The most tasks that ran at the same time (what the job budget allowed).
    std::size_t peak() const { return peak_; }

private:
    enum class State { Waiting, Running, Done };
    bool ready(std::size_t i);
    std::size_t count_waiting(bool only_ready) const;

    std::vector<Task> tasks_;
    std::vector<State> state_;
    std::set<std::string> settled_;
    Jobserver& slots_;
    Reporter& progress_;
    std::size_t running_ = 0, peak_ = 0;
};

}  // namespace dkms
