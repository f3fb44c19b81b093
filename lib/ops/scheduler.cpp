// SPDX-License-Identifier: GPL-2.0-or-later
// Autoinstall's scheduler: worker threads, dependencies, and the jobserver's tokens.
#include "dkms/ops/scheduler.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "dkms/core/error.hpp"
#include "dkms/core/scope_guard.hpp"

namespace dkms {

namespace {

// What a worker thread hands back to the scheduler's thread, which a write to an eventfd wakes.
class Mailbox {
public:
    struct Finished {
        std::size_t index;
        bool token;  ///< held a jobserver token (else the implicit slot)
        int rc;
        std::exception_ptr error;
    };
    Mailbox() : fd_(eventfd(0, EFD_CLOEXEC)) {
        if (fd_ < 0) throw SystemError("eventfd", errno);
    }
    ~Mailbox() { close(fd_); }
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;
    int fd() const { return fd_; }
    void post(Finished f) {
        {
            std::lock_guard<std::mutex> g(mu_);
            done_.push_back(std::move(f));
        }
        std::uint64_t one = 1;
        (void)!write(fd_, &one, sizeof one);
    }
    std::deque<Finished> take() {
        std::uint64_t cnt;
        (void)!read(fd_, &cnt, sizeof cnt);
        std::deque<Finished> batch;
        std::lock_guard<std::mutex> g(mu_);
        batch.swap(done_);
        return batch;
    }

private:
    int fd_;
    std::mutex mu_;
    std::deque<Finished> done_;
};

}  // namespace

BuildScheduler::BuildScheduler(std::vector<Task> tasks, std::set<std::string> settled, Jobserver& slots,
                               Reporter& progress)
    : tasks_(std::move(tasks)), state_(tasks_.size(), State::Waiting), settled_(std::move(settled)), slots_(slots),
      progress_(progress) {}

bool BuildScheduler::ready(std::size_t i) {
    if (state_[i] != State::Waiting) return false;
    auto& deps = tasks_[i].deps;
    deps.erase(std::remove_if(deps.begin(), deps.end(), [&](const std::string& d) { return settled_.count(d) > 0; }),
               deps.end());
    return deps.empty();
}

std::size_t BuildScheduler::count_waiting(bool only_ready) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < tasks_.size(); ++i)
        n += state_[i] == State::Waiting && (!only_ready || tasks_[i].deps.empty());
    return n;
}

void BuildScheduler::run(const Hooks& hooks) {
    using K = ProgressEvent::Kind;
    Mailbox mail;
    std::vector<std::thread> threads(tasks_.size());
    ScopeGuard join_all([&] {
        for (auto& th : threads)
            if (th.joinable()) th.join();
    });
    bool implicit_free = true;
    std::exception_ptr failure;
    auto start = [&](std::size_t i, bool token) {
        hooks.start(i);
        state_[i] = State::Running;
        peak_ = std::max(peak_, ++running_);
        progress_.progress({K::ModuleStarted, tasks_[i].label});
        threads[i] = std::thread([&, i, token] {
            Mailbox::Finished f{i, token, 0, nullptr};
            try {
                f.rc = hooks.work(i);
            } catch (...) {
                f.error = std::current_exception();  // thrown again by run(), on its own thread
            }
            mail.post(std::move(f));
        });
    };
    while (true) {
        // Start every ready task a slot is free for, in the order given.
        std::vector<std::size_t> startable;
        for (std::size_t i = 0; i < tasks_.size() && !failure; ++i)
            if (ready(i)) startable.push_back(i);
        for (std::size_t i : startable) {
            if (implicit_free) implicit_free = false, start(i, false);
            else if (slots_.try_acquire()) start(i, true);
            else break;
        }
        if (running_ == 0) break;
        bool want_token = !failure && count_waiting(true) > 0;
        progress_.progress({K::Waiting, {}, {}, {}, count_waiting(false)});
        pollfd fds[2] = {{mail.fd(), POLLIN, 0}, {slots_.poll_fd(), POLLIN, 0}};
        // On a terminal, wake up every second to redraw the elapsed times.
        int n = poll(fds, (want_token && slots_.poll_fd() >= 0) ? 2 : 1, progress_.interactive() ? 1000 : -1);
        if (n < 0 && errno != EINTR) throw SystemError("poll", errno);
        if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
        std::deque<Mailbox::Finished> batch = mail.take();
        progress_.progress({K::Hold});
        for (std::size_t bi = 0; bi < batch.size(); ++bi) {
            Mailbox::Finished& f = batch[bi];
            threads[f.index].join();
            --running_;
            progress_.progress({K::ModuleFinished, tasks_[f.index].label});
            if (f.token) slots_.release();
            else implicit_free = true;
            state_[f.index] = State::Done;
            if (f.error) {
                if (!failure) failure = f.error;
                continue;
            }
            if (hooks.finish(f.index, f.rc)) settled_.insert(tasks_[f.index].name);
            bool last = running_ == 0 && bi + 1 == batch.size() && !failure;
            for (std::size_t i = 0; last && i < tasks_.size(); ++i) last = !ready(i);
            hooks.close(f.index, last);
        }
    }
    progress_.progress({K::Hold});
    if (failure) std::rethrow_exception(failure);
}

std::vector<std::pair<std::size_t, std::vector<std::string>>> BuildScheduler::never_started() const {
    std::vector<std::pair<std::size_t, std::vector<std::string>>> out;
    for (std::size_t i = 0; i < tasks_.size(); ++i)
        if (state_[i] == State::Waiting) out.push_back({i, tasks_[i].deps});
    return out;
}

}  // namespace dkms
