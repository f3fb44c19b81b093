// SPDX-License-Identifier: GPL-2.0-or-later
// doctor: a read-only check of a whole machine (or --root) for what keeps DKMS modules from working.
#pragma once

#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"

namespace dkms {

/// One thing doctor found wrong.
struct Problem {
    /// What kind of check found it: "headers", "not-installed", "orphan", "manifest", "signing",
    /// "leftover", "broken", "dkms-conf", "other-dkms" (docs/doctor.md).
    std::string kind;
    std::string text;  ///< one line: what is wrong
    std::string fix;   ///< one line: what to do about it
};

/// What doctor learns from outside the root. The defaults ask the running machine; tests replace them.
struct DoctorProbes {
    /// Whether Secure Boot is on; nullopt when it cannot be told (no EFI, or the root is not "/").
    std::function<std::optional<bool>()> secure_boot;
    /// What `mokutil --test-key CERT` says; nullopt when mokutil is not installed.
    std::function<std::optional<std::string>(const std::filesystem::path& cert)> mokutil_test_key;
    /// The architecture modules are built for (uname -m).
    std::string arch;
    /// Now, for certificate expiry.
    std::time_t now = 0;

    /// The probes of the running machine for `s` (Secure Boot and mokutil only when s.root is "/").
    static DoctorProbes of_machine(const Settings& s);
};

/// Check the machine the settings describe, without writing anything: kernels without (complete)
/// headers; AUTOINSTALL modules not installed for a kernel that has headers, with their last build's
/// cause; files in the dkms install locations that no manifest or build accounts for; manifests whose
/// files are missing or changed; the MOK key pair; leftovers of interrupted runs; broken versions;
/// a `dkms` command that is not dkms-run's. It may run bash to read a dkms.conf or framework.conf that
/// needs a shell, and the probes; it never reports anything through ctx.report.
std::vector<Problem> doctor(const Context& ctx, const DoctorProbes& probes);

/// `doctor --json`: {"schema": 1, "problems": [{"kind": ..., "text": ..., "fix": ...}, ...]}.
std::string format_doctor_json(const std::vector<Problem>& problems);

}  // namespace dkms
