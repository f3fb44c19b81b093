// SPDX-License-Identifier: GPL-2.0-or-later
// Undo on the way out: a function run when the scope is left, unless dismissed first.
#pragma once

#include <utility>

namespace dkms {

/// Runs `undo` when it goes out of scope (an exception, the Interrupted one included, or an early
/// return), unless dismiss() was called: the cleanup of a step that did not complete, written once
/// next to the step, instead of a `catch (...) { undo; throw; }`. `undo` must not throw.
template <typename F>
class ScopeGuard {
public:
    explicit ScopeGuard(F undo) : undo_(std::move(undo)) {}
    ~ScopeGuard() {
        if (armed_) undo_();
    }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    /// The step completed: nothing to undo.
    void dismiss() noexcept { armed_ = false; }

private:
    F undo_;
    bool armed_ = true;
};

}  // namespace dkms
