// SPDX-License-Identifier: GPL-2.0-or-later
// What a dkms-run command is: a name, a line of help, and a function over a parsed invocation.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/core/error.hpp"
#include "dkms/ops/ops.hpp"

namespace dkms::cli {

/// The command line after parsing, in dkms's terms.
struct Invocation {
    Context& ctx;
    std::string action;
    std::string module, version;              ///< from m/v, -m, -v
    std::optional<std::filesystem::path> source_path;  ///< add <dir> / <dir>/dkms.conf
    std::vector<Target> targets;              ///< -k/-a resolved (empty with --all until resolved)
    bool kernels_given = false;
    bool arch_given = false;                  ///< an arch came with -a or -k K/A
    bool json = false;
    std::vector<std::string> extra_args;      ///< words the action takes itself (lint PATH...)
    /// Archive and package options (mktarball, ldtarball, match, mkbmdeb/mkdeb/mkdsc).
    std::optional<std::string> archive;       ///< --archive, or a positional existing regular file
    std::optional<std::string> template_kernel;  ///< --templatekernel
    std::optional<std::string> output_dir;    ///< --output-dir
    bool binaries_only = false, source_only = false;
    std::optional<std::string> sign_key, sign_cert;  ///< mkbmdeb --mok-signing-key / --mok-certificate
};

struct Command {
    const char* name;
    const char* summary;     ///< empty: hidden from --help
    const char* usage;       ///< "add [module/version | source-dir]" etc.
    bool accepts_all;        ///< --all allowed
    bool needs_targets;      ///< default kernel (uname -r) filled in when none given
    bool writes;             ///< takes the tree's writer lock
    int (*run)(Invocation&);
};

const std::vector<const Command*>& commands();
const Command* find_command(const std::string& name);

/// Print an Error as dkms does: a blank line, "Error! " + first line, then the rest (stderr).
void print_error(Reporter& r, const Error& e);
/// The module/version must be known; else dkms's message and exit 1.
ModuleId require_module_version(const Invocation& inv);
/// Run `fn` for each target; errors are printed and the last target's code is returned (dkms's rule).
int for_each_target(Invocation& inv, const std::function<void(const Target&)>& fn);

}  // namespace dkms::cli
