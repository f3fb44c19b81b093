// SPDX-License-Identifier: GPL-2.0-or-later
// The record of the last build attempt of a module version for one kernel/arch, kept in the tree so
// that `status --json` and `doctor` can say why a module is missing (docs/status-json.md).
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/tree/tree.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// What the last build of m/v for K/A came to.
struct BuildOutcome {
    int schema = 1;
    std::string module, version, kernel, arch;
    std::string result;                    ///< "built" or "failed"
    int exit_code = 0;                     ///< dkms-run's exit code for the build (0 when built)
    std::string step;                      ///< the failed step: "make", "pre_build", "post_build", "patch", ""
    std::string cause;                     ///< "" when built, else a cause_name ("kernel-api", "headers", ...)
    std::string summary;                   ///< one line: the likely cause ("" when built)
    std::string fix;                       ///< one line: what to do ("" when built)
    std::vector<std::string> first_error;  ///< the first error of make.log, at most 5 lines
    std::string log;                       ///< the make.log of that build, as kept in the tree
    std::time_t time = 0;                  ///< when the build ended (seconds since the epoch)
};

/// <dkms_tree>/<m>/<v>/.dkms-run-builds: a directory dkms and dkms-run's listings never take for a
/// kernel (its name starts with a dot), removed with the version.
inline constexpr const char* outcomes_dir_name = ".dkms-run-builds";
/// <version dir>/.dkms-run-builds/<K>/<A>: the record (last-build.yaml) and, for a failed build, the
/// make.log it left (the next build of the version, for any kernel, starts from an empty build/).
fs::path outcome_dir(const Tree& tree, const ModuleId& id, const Target& t);

/// Record `o` for (o.module, o.version, o.kernel, o.arch). For a failed build, `make_log` (if it
/// exists) is copied beside the record first and o.log is set to the copy; for a built one o.log is
/// kept as given and any copy of an earlier failure's log is removed. Every file is written to a
/// temporary name and renamed: a crash leaves the old record or the new one. Throws Error on a name
/// that is not a safe path component, SystemError when the tree cannot be written.
void write_build_outcome(const Tree& tree, BuildOutcome o, const fs::path& make_log = {});

/// The record for m/v on K/A, if there is one. A record that cannot be read (corrupt, from a newer
/// dkms-run, not describing m/v K/A) is reported as absent with `why` set.
std::optional<BuildOutcome> read_build_outcome(const Tree& tree, const ModuleId& id, const Target& t,
                                               std::string* why = nullptr);

/// Every record of m/v, in kernel (natural) then arch order; unreadable ones are skipped.
std::vector<BuildOutcome> build_outcomes(const Tree& tree, const ModuleId& id);

/// Remove the record of m/v for K/A (and its make.log), and the directories left empty. Never throws.
void remove_build_outcome(const Tree& tree, const ModuleId& id, const Target& t) noexcept;

/// "2026-12-06T16:28:14Z": a record's time as written in it and in status --json.
std::string outcome_time_string(std::time_t t);

}  // namespace dkms
