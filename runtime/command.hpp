// SPDX-License-Identifier: GPL-2.0-or-later
// What a dkms-run command is: a name, its help, its own options, and a function over a parsed invocation.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/core/error.hpp"
#include "dkms/ops/ops.hpp"

namespace dkms::cli {

/// The command line after parsing, in dkms's terms.
struct Invocation {
    Context& ctx;
    std::string action{};
    std::string module{}, version{};          ///< from m/v, -m, -v
    std::optional<std::filesystem::path> source_path{};  ///< add <dir> / <dir>/dkms.conf
    std::vector<Target> targets{};            ///< -k/-a resolved (empty with --all until resolved)
    bool kernels_given = false;
    bool arch_given = false;                  ///< an arch came with -a or -k K/A
    bool json = false;
    std::vector<std::string> extra_args{};    ///< words the action takes itself (lint PATH...)
    /// Archive and package options (mktarball, ldtarball, match, mkbmdeb/mkdeb/mkdsc).
    std::optional<std::string> archive{};     ///< --archive, or a positional existing regular file
    std::optional<std::string> template_kernel{};  ///< --templatekernel
    std::optional<std::string> output_dir{};  ///< --output-dir
    bool binaries_only = false, source_only = false;
    std::optional<std::string> sign_key{}, sign_cert{};  ///< mkbmdeb --mok-signing-key / --mok-certificate
};

/// The command line as read, before dkms's checks turn it into the Invocation's targets and paths.
struct CommandLine {
    Invocation& inv;
    std::vector<std::string> kernels{}, arches{};  ///< -k K[/A] and -a A, in their order
    std::optional<std::string> root{}, dkms_tree{}, source_tree{}, install_tree{};
    std::string module_word{};                 ///< the positional word taken as module/version
    bool quiet = false, help = false, version = false;
};

/// One option: Boost.Program_options' name ("long,s"; ",s" for a short-only one), the name of its
/// value in --help (none: a switch), its help text, and what it does, applied in command-line order.
struct Option {
    const char* name = nullptr;
    const char* value = nullptr;
    const char* help = nullptr;
    void (*apply)(CommandLine&, const std::string& value) = nullptr;
};

struct Command {
    const char* name = nullptr;
    const char* summary = "";            ///< empty: hidden from --help
    const char* usage = nullptr;         ///< "add [module/version | source-dir]" etc.
    std::span<const Option* const> options{};  ///< its own options (any action accepts them, as dkms's)
    bool accepts_all = false;            ///< --all allowed
    bool needs_targets = false;          ///< default kernel (uname -r) filled in when none given
    bool writes = false;                 ///< takes the tree's writer lock
    bool transaction = false;            ///< post_transaction runs after it succeeds
    ExitCode (*run)(Invocation&) = nullptr;
};

const std::vector<const Command*>& commands();
const Command* find_command(const std::string& name);

/// The one place an Error is written as dkms does: a blank line, "Error! " + first line, then the
/// rest, on stderr.
void print_error(Reporter& r, const Error& e);
/// The module/version must be known; else dkms's message and exit 1.
ModuleId require_module_version(const Invocation& inv);
/// Run `fn` for each target; errors are printed and the last target's code is returned (dkms's rule).
ExitCode for_each_target(Invocation& inv, const std::function<void(const Target&)>& fn);
/// unbuild and uninstall: the module/version must be in the tree (broken included); `undo` runs for
/// each kernel of the command line (--all: each kernel it is built for), a blank line between them.
ExitCode undo_for_each_kernel(Invocation& inv, const std::function<void(Ops&, const ModuleId&, const Target&)>& undo);

}  // namespace dkms::cli
