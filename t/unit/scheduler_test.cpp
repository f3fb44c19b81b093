// SPDX-License-Identifier: GPL-2.0-or-later
// Autoinstall's scheduler on its own: dependency order, the job budget, failures that leave
// dependents waiting, the progress events; tasks are lambdas, no process is run.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>

#include "dkms/ops/scheduler.hpp"
#include "support.hpp"

using namespace dkms;
using Lines = std::vector<std::string>;
using Task = BuildScheduler::Task;

namespace {

/// Records the progress events (kind and text), and what the hooks say, in order.
struct Recorder : dkms::test::CaptureReporter {
    std::mutex mu;
    Lines events;
    void progress(const ProgressEvent& e) override {
        static const char* const names[] = {"step-started", "step-ticked", "step-finished", "builds-started",
                                            "started", "finished", "waiting", "hold"};
        std::lock_guard<std::mutex> g(mu);
        std::string line = names[int(e.kind)];
        if (!e.text.empty()) line += " " + e.text;
        if (e.kind == ProgressEvent::Kind::Waiting) line += " " + std::to_string(e.waiting);
        events.push_back(line);
    }
    void note(const std::string& l) {
        std::lock_guard<std::mutex> g(mu);
        events.push_back(l);
    }
};

/// A job budget of `n` made here, not joined from a make that runs the tests.
Jobserver budget(int n) {
    unsetenv("MAKEFLAGS");
    return Jobserver(n);
}

/// Hooks that succeed, noting start/finish/close; `work` as given.
BuildScheduler::Hooks noting(Recorder& rec, const std::vector<Task>& tasks, std::function<int(size_t)> work) {
    return {
        .start = [&rec, &tasks](size_t i) { rec.note("start " + tasks[i].name); },
        .work = std::move(work),
        .finish = [&rec, &tasks](size_t i, int rc) {
            rec.note("finish " + tasks[i].name + " " + std::to_string(rc));
            return rc == 0;
        },
        .close = [&rec, &tasks](size_t i, bool last) { rec.note("close " + tasks[i].name + (last ? " last" : "")); },
    };
}

/// Keep only the lines that start with one of `kinds`.
Lines only(const Lines& events, const Lines& kinds) {
    Lines out;
    for (auto& e : events)
        for (auto& k : kinds)
            if (e.rfind(k + " ", 0) == 0) out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("one slot: tasks run one at a time, each after its BUILD_DEPENDS, in the order given", "[scheduler]") {
    Recorder rec;
    std::vector<Task> tasks{{"c", "c/1", {"b"}}, {"a", "a/1", {}}, {"b", "b/1", {"a"}}};
    Jobserver js = budget(1);
    BuildScheduler s(tasks, {}, js, rec);
    s.run(noting(rec, tasks, [](size_t) { return 0; }));
    CHECK(rec.events == Lines{"start a",         "started a/1", "waiting 2",    "hold",          "finished a/1",
                              "finish a 0",      "close a",     "start b",      "started b/1",   "waiting 1",
                              "hold",            "finished b/1", "finish b 0",  "close b",       "start c",
                              "started c/1",     "waiting 0",   "hold",         "finished c/1",  "finish c 0",
                              "close c last",    "hold"});
    CHECK(s.never_started().empty());
    CHECK(s.peak() == 1);
}

TEST_CASE("independent tasks share the job budget: never more at once than it allows", "[scheduler]") {
    for (int slots : {1, 2, 3}) {
        Recorder rec;
        std::vector<Task> tasks;
        for (char c : std::string("abcdef")) tasks.push_back({std::string(1, c), std::string(1, c) + "/1", {}});
        Jobserver js = budget(slots);
        BuildScheduler s(tasks, {}, js, rec);
        std::mutex mu;
        std::condition_variable cv;
        int running = 0;
        // The first tasks wait until `slots` of them run together (or 2 s pass): the budget is used.
        s.run(noting(rec, tasks, [&](size_t) {
            std::unique_lock<std::mutex> l(mu);
            ++running;
            cv.notify_all();
            cv.wait_for(l, std::chrono::seconds(2), [&] { return running >= slots; });
            return 0;
        }));
        CHECK(s.peak() == size_t(slots));
        CHECK(only(rec.events, {"finish"}).size() == 6);
        CHECK(only(rec.events, {"close"}).back().find(" last") != std::string::npos);
        CHECK(s.never_started().empty());
    }
}

TEST_CASE("a failed task leaves its dependents waiting, and others go on", "[scheduler]") {
    Recorder rec;
    std::vector<Task> tasks{{"a", "a/1", {}}, {"b", "b/1", {"a"}}, {"c", "c/1", {"b", "x"}}, {"d", "d/1", {"z"}}};
    Jobserver js = budget(2);
    // z was there before (installed): settled from the start.
    BuildScheduler s(tasks, {"z"}, js, rec);
    s.run(noting(rec, tasks, [](size_t i) { return i == 0 ? 10 : 0; }));
    Lines seen = only(rec.events, {"start", "finish"});
    bool a_first = seen == Lines{"start a", "start d", "finish a 10", "finish d 0"};
    bool d_first = seen == Lines{"start a", "start d", "finish d 0", "finish a 10"};
    CHECK((a_first || d_first));
    auto waiting = s.never_started();
    REQUIRE(waiting.size() == 2);
    CHECK(waiting[0] == std::pair<size_t, Lines>{1, {"a"}});
    CHECK(waiting[1] == std::pair<size_t, Lines>{2, {"b", "x"}});
    // The last close says so, once.
    CHECK(only(rec.events, {"close"}).back().find(" last") != std::string::npos);
    CHECK(only(rec.events, {"close"}).front().find(" last") == std::string::npos);
}

TEST_CASE("an exception from a task's work stops new starts and comes out of run()", "[scheduler]") {
    Recorder rec;
    std::vector<Task> tasks{{"a", "a/1", {}}, {"b", "b/1", {"a"}}};
    Jobserver js = budget(1);
    BuildScheduler s(tasks, {}, js, rec);
    CHECK_THROWS_WITH(s.run(noting(rec, tasks, [](size_t) -> int { throw std::runtime_error("boom"); })), "boom");
    CHECK(only(rec.events, {"start", "finish", "close"}) == Lines{"start a"});
    CHECK(s.never_started().size() == 1);
    CHECK(rec.events.back() == "hold");
}
