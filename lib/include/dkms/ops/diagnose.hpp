// SPDX-License-Identifier: GPL-2.0-or-later
// Why a build failed: the first real error of a make.log and its likely cause, read from the text
// alone with a small table of patterns (docs/build-failures.md lists them).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkms/core/error.hpp"

namespace dkms {

/// The likely cause of a failed build.
enum class Cause {
    KernelApi,       ///< the module's code does not compile against this kernel's API
    Headers,         ///< the kernel's headers (or linux-kbuild) are missing or incomplete
    Compiler,        ///< a compiler other than the kernel's, or the kernel's is not installed
    MissingTool,     ///< a program the build runs is not installed
    MissingLibrary,  ///< a userspace header or library the build needs is not installed
    PreBuild,        ///< the PRE_BUILD script failed
    PostBuild,       ///< the POST_BUILD script failed
    Patch,           ///< a PATCH did not apply
    DiskFull,        ///< No space left on device
    Unknown,         ///< none of the above: the first error and the log are all there is
};

/// "kernel-api", "headers", "compiler", "missing-tool", "missing-library", "pre-build", "post-build",
/// "patch", "disk-full", "unknown": the names of status --json and of the outcome records.
std::string_view cause_name(Cause c);
/// The cause of a name cause_name gives; empty for any other string.
std::optional<Cause> cause_from_name(std::string_view name);

/// What is known about a failed build besides its make.log.
struct BuildFacts {
    std::string module, version;  ///< named in the texts (M, V)
    std::string kernel;           ///< the kernel it was built for (K)
    /// The module's directories as make.log names them (the build copy first, then the source and its
    /// link): a path inside one of them is shown relative to it.
    std::vector<std::filesystem::path> source_dirs;
    std::string kernel_cc;  ///< the kernel's CONFIG_CC_VERSION_TEXT, "" when unknown
    std::string cc;         ///< the CC the build was given in its environment, "" for none
};

/// The first real error of a failed build and what it likely means.
struct Diagnosis {
    Cause cause = Cause::Unknown;
    std::string step;                  ///< the failed step: "make", "pre_build", "post_build" or "patch"
    std::string step_detail;           ///< the patch's name, the script's program
    int exit_code = 0;                 ///< the failed step's exit status (0: no step failed, e.g. no .ko made)
    std::vector<std::string> excerpt;  ///< the first error, at most 5 lines, module paths made relative
    bool excerpt_is_tail = false;      ///< no line looked like an error: the excerpt is the step's last lines
    std::string missing;               ///< what is missing: a program, header, pkg-config name, compiler, path
    std::string package;               ///< the Debian package that provides it, when the table says so
    std::string summary;               ///< one line: the likely cause
    std::string fix;                   ///< one line: what to do
};

/// Read a make.log as dkms-run and dkms 3.4 write it (steps with "# command:" and "# exit code:"; an
/// older log without them is one step): the failed step (else the last), its first real error and the
/// cause. Never throws; a log it cannot make sense of gives Cause::Unknown.
Diagnosis diagnose_make_log(std::string_view log, const BuildFacts& facts);

/// The same for a build that stopped before make ran, from the Error it threw: headers missing (21)
/// is Cause::Headers; anything else is Cause::Unknown with the error's lines as the excerpt.
Diagnosis diagnose_error(const Error& e, const BuildFacts& facts);

/// The "Why:" block printed after dkms's own lines: the excerpt, the likely cause and what to do,
/// naming `log` for a cause it does not recognise.
std::vector<std::string> why_block(const Diagnosis& d, const std::filesystem::path& log);

/// The Debian package providing a program, a header (as #include names it) or a pkg-config module,
/// from a small table checked against Debian 12's packages; "" when the table has no entry.
std::string package_for_program(std::string_view name);
std::string package_for_header(std::string_view header);
std::string package_for_pkgconfig(std::string_view name);

/// One line of the summary table that autoinstall and kernel_postinst end with.
struct OutcomeRow {
    std::string module, version;
    std::string result;  ///< "installed", "built", "failed", "skipped", ...
    std::string cause;   ///< "" or "<cause-name>: <summary>"
};
/// The table: a header line and one line per row, columns aligned, no trailing spaces.
std::vector<std::string> outcome_table(const std::vector<OutcomeRow>& rows);

}  // namespace dkms
