// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run's Reporter: the engine's lines to stdout and stderr, interleaved as dkms prints them.
#include "reporter.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace dkms::cli {

void StdReporter::out(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void StdReporter::out_partial(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void StdReporter::err(std::string_view line) {
    std::fflush(stdout);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

bool StdReporter::interactive() const { return isatty(1); }

int StdReporter::columns() const {
    winsize w{};
    if (ioctl(1, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
    if (const char* c = getenv("COLUMNS"); c && std::atoi(c) > 0) return std::atoi(c);
    return 80;
}

void silence_output() {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
}

}  // namespace dkms::cli
