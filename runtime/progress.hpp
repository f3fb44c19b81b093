// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's progress events drawn on a terminal: "\r" redraws of one line, cleared with ESC[K.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dkms/core/report.hpp"

namespace dkms::cli {

/// Renders ProgressEvents through `out` (its out_partial), only when out.interactive():
/// * a logged step (build's "Building module(s)..."): while it runs, its line is redrawn as
///   "\r<step>... <what> HH:MM:SS" ESC[K every second, and put back to "\r<step>..." ESC[K when it
///   ends, before its " done." (not with --verbose, which shows the command instead);
/// * autoinstall's builds: one line "Building for <kernel>: <module> m:ss, ..., N waiting", cut to
///   the terminal's width, redrawn in place and taken away ("\r" ESC[K) before anything else is
///   printed, so that what stays on the screen is exactly what is printed without a terminal.
/// Not on a terminal (dpkg's logs), nothing at all.
class ProgressRenderer {
public:
    explicit ProgressRenderer(Reporter& out) : out_(out) {}
    void render(const ProgressEvent& e);

private:
    using Clock = std::chrono::steady_clock;
    void draw(std::size_t waiting);
    void clear();

    Reporter& out_;
    std::string head_;
    std::vector<std::pair<std::string, Clock::time_point>> running_;
    bool drawn_ = false;
};

}  // namespace dkms::cli
