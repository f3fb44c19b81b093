// SPDX-License-Identifier: GPL-2.0-or-later
// A GNU make jobserver: one job budget shared by every make that several concurrent builds start.
#pragma once

#include <string>

namespace dkms {

/// The job budget of one dkms-run transaction, in GNU make's jobserver protocol.
///
/// Every process of the tree owns one implicit job slot; each further job needs a token (one
/// byte) read from the jobserver and written back when done. dkms-run runs its first module
/// build on its own implicit slot and takes a token for every further module it builds at the
/// same time; each make it starts gets that slot as its own implicit one and reads tokens for
/// more compiler jobs. So the whole transaction never runs more than `slots()` jobs.
///
/// If the environment already names a jobserver (dkms-run started from `make -jN` with a
/// recipe marked `+`: MAKEFLAGS holds `--jobserver-auth=R,W` or `fifo:PATH`, and the
/// descriptors are open), that one is joined instead and its budget is honoured.
/// Otherwise a pipe holding `jobs - 1` tokens is created.
class Jobserver {
public:
    /// `jobs` is the budget when no jobserver is inherited (dkms's -j / parallel_jobs / nproc).
    explicit Jobserver(int jobs);
    ~Jobserver();
    Jobserver(const Jobserver&) = delete;
    Jobserver& operator=(const Jobserver&) = delete;

    /// The MAKEFLAGS value for a make that should join: "-j --jobserver-auth=R,W" (or fifo:PATH).
    /// Empty when the budget is one job (make then runs serially without a jobserver).
    const std::string& makeflags() const { return makeflags_; }
    /// True when the jobserver came from the environment.
    bool inherited() const { return inherited_; }
    /// The budget when known (created here), 0 when inherited.
    int slots() const { return slots_; }

    /// Take a token without blocking; true if one was taken.
    bool try_acquire();
    /// Give a token back.
    void release();
    /// A descriptor that becomes readable when a token may be available (for poll), -1 if none.
    int poll_fd() const { return nb_read_; }

private:
    std::string makeflags_;
    bool inherited_ = false;
    int slots_ = 1;
    int read_ = -1, write_ = -1;  ///< the descriptors makes inherit
    int nb_read_ = -1;            ///< our own non-blocking open file description of the read end
    bool own_ = false;            ///< created here: close on destruction
};

}  // namespace dkms
