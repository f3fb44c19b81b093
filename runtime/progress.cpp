// SPDX-License-Identifier: GPL-2.0-or-later
// Drawing the engine's progress events on a terminal.
#include "progress.hpp"

#include <algorithm>
#include <cstdio>

namespace dkms::cli {

namespace {

// ANSI "erase to end of line": a redrawn shorter line leaves nothing of the longer one behind.
constexpr const char* kClearToEol = "\033[K";

std::string hh_mm_ss(std::chrono::steady_clock::duration d) {
    long s = long(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
}

}  // namespace

void ProgressRenderer::render(const ProgressEvent& e) {
    using K = ProgressEvent::Kind;
    if (!out_.interactive()) return;
    switch (e.kind) {
        case K::StepStarted: break;
        case K::StepTicked:
            if (!out_.is_verbose())
                out_.out_partial("\r" + e.text + "... " + e.label + " " + hh_mm_ss(e.elapsed) + kClearToEol);
            break;
        case K::StepFinished:
            if (!out_.is_verbose()) out_.out_partial("\r" + e.text + "..." + kClearToEol);
            break;
        case K::BuildsStarted: head_ = "Building for " + e.text + ": "; break;
        case K::ModuleStarted: running_.push_back({e.text, Clock::now()}); break;
        case K::ModuleFinished:
            running_.erase(std::remove_if(running_.begin(), running_.end(), [&](auto& r) { return r.first == e.text; }),
                           running_.end());
            break;
        case K::Waiting: draw(e.waiting); break;
        case K::Hold: clear(); break;
    }
}

void ProgressRenderer::draw(std::size_t waiting) {
    if (running_.empty()) return clear();
    auto now = Clock::now();
    std::string line = head_;
    for (std::size_t i = 0; i < running_.size(); ++i) {
        long sec = long(std::chrono::duration_cast<std::chrono::seconds>(now - running_[i].second).count());
        char t[32];
        std::snprintf(t, sizeof t, " %ld:%02ld", sec / 60, sec % 60);
        line += (i ? ", " : "") + running_[i].first + t;
    }
    if (waiting) line += ", " + std::to_string(waiting) + " waiting";
    // Wider than the terminal, it would wrap and "\r" could not go back to its start.
    std::size_t width = std::size_t(std::max(out_.columns(), 2) - 1);
    if (line.size() > width) {
        std::size_t cut = width >= 3 ? width - 3 : width;
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
        line = line.substr(0, cut) + std::string("...").substr(0, width - cut);
    }
    out_.out_partial("\r" + line + kClearToEol);
    drawn_ = true;
}

void ProgressRenderer::clear() {
    if (!drawn_) return;
    out_.out_partial(std::string("\r") + kClearToEol);
    drawn_ = false;
}

}  // namespace dkms::cli
