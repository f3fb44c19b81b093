// SPDX-License-Identifier: GPL-2.0-or-later
// GNU make jobserver: created (a pipe of tokens) or joined from an inherited MAKEFLAGS.
#include "dkms/sys/jobserver.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "dkms/core/error.hpp"

namespace dkms {

namespace {

bool fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) != -1; }

// "--jobserver-auth=3,4" / "--jobserver-fds=3,4" / "--jobserver-auth=fifo:/tmp/x" of MAKEFLAGS; "" if none.
std::string auth_of(const char* makeflags) {
    if (!makeflags) return "";
    std::string mf = makeflags, auth;
    for (const char* key : {"--jobserver-auth=", "--jobserver-fds="}) {
        // the last occurrence wins, as in make
        auto pos = mf.rfind(key);
        if (pos == std::string::npos) continue;
        auto start = pos + std::string(key).size();
        auth = mf.substr(start, mf.find(' ', start) - start);
        break;
    }
    // make -j1 -- or a make run with -n: no jobserver even if auth is present
    return auth;
}

}  // namespace

Jobserver::Jobserver(int jobs) {
    std::string auth = auth_of(getenv("MAKEFLAGS"));
    if (!auth.empty()) {
        if (auth.rfind("fifo:", 0) == 0) {
            std::string path = auth.substr(5);
            int r = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (r >= 0) {
                nb_read_ = r;
                write_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
                if (write_ >= 0) {
                    own_ = true;  // our own descriptors of a shared fifo
                    inherited_ = true;
                    slots_ = 0;
                    makeflags_ = "-j --jobserver-auth=" + auth;
                    return;
                }
                close(r);
                nb_read_ = -1;
            }
        } else if (auto comma = auth.find(','); comma != std::string::npos) {
            int r = std::atoi(auth.substr(0, comma).c_str()), w = std::atoi(auth.substr(comma + 1).c_str());
            if (fd_open(r) && fd_open(w)) {
                read_ = r;
                write_ = w;
                inherited_ = true;
                slots_ = 0;
                makeflags_ = "-j --jobserver-auth=" + std::to_string(r) + "," + std::to_string(w);
                nb_read_ = open(("/proc/self/fd/" + std::to_string(r)).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                return;
            }
        }
        // A jobserver named but not reachable (recipe not marked '+'): make would say
        // "jobserver unavailable"; we fall back to our own budget.
    }
    slots_ = jobs < 1 ? 1 : jobs;
    if (slots_ == 1) return;
    int p[2];
    // The descriptors are inherited by every make we start (no O_CLOEXEC).
    if (pipe(p) != 0) throw SystemError("cannot create the jobserver pipe", errno);
    read_ = p[0];
    write_ = p[1];
    own_ = true;
    std::string tokens(size_t(slots_ - 1), '+');
    if (write(write_, tokens.data(), tokens.size()) != ssize_t(tokens.size()))
        throw SystemError("cannot fill the jobserver pipe", errno);
    makeflags_ = "-j --jobserver-auth=" + std::to_string(read_) + "," + std::to_string(write_);
    // Our own open file description of the read end, so that O_NONBLOCK does not reach the makes.
    // Without /proc (a bare chroot) we cannot wait for tokens: modules then build one at a time,
    // each make still using the whole budget.
    nb_read_ = open(("/proc/self/fd/" + std::to_string(read_)).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

Jobserver::~Jobserver() {
    if (nb_read_ >= 0) close(nb_read_);
    if (own_) {
        if (read_ >= 0) close(read_);
        if (write_ >= 0) close(write_);
    }
}

bool Jobserver::try_acquire() {
    if (nb_read_ < 0) return false;
    char c;
    while (true) {
        ssize_t n = read(nb_read_, &c, 1);
        if (n == 1) return true;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
}

void Jobserver::release() {
    if (write_ < 0) return;
    char c = '+';
    while (write(write_, &c, 1) < 0 && errno == EINTR) {
    }
}

}  // namespace dkms
