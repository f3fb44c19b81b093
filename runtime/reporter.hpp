// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run's Reporter: the engine's lines to stdout and stderr, interleaved as dkms prints them.
#pragma once

#include "dkms/core/report.hpp"
#include "progress.hpp"

namespace dkms::cli {

class StdReporter : public Reporter {
public:
    void out(std::string_view line) override;
    void out_partial(std::string_view text) override;
    void err(std::string_view line) override;
    bool interactive() const override;
    int columns() const override;
    void progress(const ProgressEvent& e) override { progress_.render(e); }

private:
    ProgressRenderer progress_{*this};
};

/// -q: stdout and stderr go to /dev/null from here on (dkms's `exec >/dev/null 2>&1`).
void silence_output();

}  // namespace dkms::cli
