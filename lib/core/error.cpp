// SPDX-License-Identifier: GPL-2.0-or-later
// Error formatting helpers.
#include <cerrno>
#include <csignal>
#include <cstring>

#include "dkms/core/error.hpp"

namespace dkms {

namespace {

std::vector<std::string> system_error_lines(const std::string& what, int err) {
    std::vector<std::string> lines{what + ": " + std::strerror(err)};
    // The two conditions a user can fix at once; say which (ENOSPC/EROFS) and what to do.
    if (err == ENOSPC || err == EDQUOT)
        lines.push_back(std::string(err == ENOSPC ? "ENOSPC" : "EDQUOT") +
                        ": the file system is full. Free some space (or enlarge it) and run the command again.");
    else if (err == EROFS)
        lines.push_back("EROFS: the file system is mounted read-only. Remount it read-write and run the command again.");
    return lines;
}

}  // namespace

Interrupted::Interrupted(int sig)
    : std::runtime_error(std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
                                                           sig == SIGHUP ? "SIGHUP" : "a signal")), sig_(sig) {}

SystemError::SystemError(std::string what, int err) : Error(ExitCode::Error, system_error_lines(what, err)), err_(err) {}

}  // namespace dkms
