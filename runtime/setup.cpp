// SPDX-License-Identifier: GPL-2.0-or-later
// From the command line as read to what a command runs with: settings and paths, dkms's checks of
// the whole command line in its order, the kernels and arches paired into targets.
#include <cstdlib>

#include "cli.hpp"
#include "config.h"
#include "dkms/conf/framework.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms::cli {

Settings default_settings() {
    Settings s;
    s.dkms_tree = DKMS_DEFAULT_DKMS_TREE;
    s.source_tree = DKMS_DEFAULT_SOURCE_TREE;
    s.install_tree = DKMS_DEFAULT_INSTALL_TREE;
    if (const char* t = getenv("TMPDIR"); t && *t) s.tmp_location = t;
    if (const char* pj = getenv("parallel_jobs"); pj && *pj) s.parallel_jobs = pj;
    return s;
}

void set_up_paths(CommandLine& c) {
    Settings& s = c.inv.ctx.settings;
    // An empty path would silently mean the current directory (or fail deep inside); a relative one
    // would change meaning once make runs in another directory.
    for (auto [opt, val] : {std::pair{"--root", &c.root}, std::pair{"--dkmstree", &c.dkms_tree},
                            std::pair{"--sourcetree", &c.source_tree}, std::pair{"--installtree", &c.install_tree}})
        if (*val && val->value().empty())
            throw Error(ExitCode::Usage, std::string(opt) + " needs a directory, not an empty string.");
    if (c.root) s.root = fs::path(*c.root).is_relative() ? fs::absolute(*c.root) : fs::path(*c.root);
    if (s.root != "/") {
        // With --root, the default trees live inside it.
        s.dkms_tree = s.root / fs::path(DKMS_DEFAULT_DKMS_TREE).relative_path();
        s.source_tree = s.root / fs::path(DKMS_DEFAULT_SOURCE_TREE).relative_path();
        s.install_tree = s.root / fs::path(DKMS_DEFAULT_INSTALL_TREE).relative_path();
    }
    load_framework(s);
    if (c.dkms_tree) s.dkms_tree = fs::absolute(*c.dkms_tree);
    if (c.source_tree) s.source_tree = fs::absolute(*c.source_tree);
    if (c.install_tree) s.install_tree = fs::absolute(*c.install_tree);
    c.inv.ctx.report.set_verbose(s.verbose);
}

namespace {

// dkms's checks before it knows the action, in its order (os-release at start, then the options).
void check_options(const CommandLine& c) {
    const Invocation& inv = c.inv;
    const Settings& s = inv.ctx.settings;
    if (!has_os_release(s)) throw Error(ExitCode::ConfMissing, "System is missing os-release file.");
    if (inv.binaries_only && inv.source_only)
        throw Error(ExitCode::BadConf,
                    {"You have specified both --binaries-only and --source-only.", "You cannot do this."});
    if (c.arches.size() > 1 && c.arches.size() != c.kernels.size())
        throw Error(ExitCode::Error, {"If more than one arch is specified on the command line, then there",
                                      "must be an equal number of kernel versions also specified (1:1 relationship)."});
    // mkbmdeb --all without a module: every module, for the kernels given with -k (docs/fleet.md).
    const bool all_modules = inv.action == "mkbmdeb" && inv.module.empty();
    if ((inv.sign_key || inv.sign_cert) && inv.action != "mkbmdeb")
        throw Error(ExitCode::Usage, "--mok-signing-key and --mok-certificate are options of mkbmdeb only.");
    if (s.all && !c.kernels.empty() && !all_modules)
        throw Error(ExitCode::Usage,
                    {"You cannot specify a kernel version and also specify", "--all on the command line."});
    if (s.all && !c.arches.empty() && !all_modules)
        throw Error(ExitCode::NotFound, {"You cannot specify an arch and also specify", "--all on the command line."});
}

// dkms's checks of the action: known, setup_kernels_arches ("Empty kernelver[i]", then "Empty
// arch[i]"; not for status), --all.
const Command& check_action(const CommandLine& c) {
    const Invocation& inv = c.inv;
    const Command* cmd = find_command(inv.action);
    if (!cmd) throw ShowUsage(ExitCode::Ok, "Unknown action specified: \"" + inv.action + "\"");
    for (auto [list, name] : {std::pair{&c.kernels, "kernelver"}, std::pair{&c.arches, "arch"}})
        for (size_t i = 0; i < list->size() && inv.action != "status"; ++i)
            if ((*list)[i].empty())
                throw Error(ExitCode::EmptyKernel, std::string("Empty ") + name + "[" + std::to_string(i) + "]");
    if (inv.ctx.settings.all && !cmd->accepts_all)
        throw Error(ExitCode::Unsupported, "The action " + inv.action + " does not support the --all parameter.");
    return *cmd;
}

// -k and -a paired by position; one -a goes with every kernel; the running kernel when none is given.
void resolve_targets(CommandLine& c, const Command& cmd) {
    Invocation& inv = c.inv;
    inv.kernels_given = !c.kernels.empty();
    inv.arch_given = !c.arches.empty();
    std::vector<std::string> kernels = c.kernels;
    if (kernels.empty() && cmd.needs_targets && !inv.ctx.settings.all) kernels.push_back(running_kernel());
    std::string default_arch = c.arches.size() == 1 ? c.arches.front() : machine_arch();
    for (size_t i = 0; i < kernels.size(); ++i)
        inv.targets.push_back({kernels[i], c.arches.size() > 1 ? c.arches[i] : default_arch});
    if (kernels.empty() && !c.arches.empty()) inv.targets.push_back({"", c.arches.front()});
}

}  // namespace

const Command& check_command_line(CommandLine& c) {
    check_options(c);
    const Command& cmd = check_action(c);
    resolve_targets(c, cmd);
    return cmd;
}

void check_names(const Invocation& inv) {
    // A version without a module is reported missing by the command (as dkms does for a path taken as
    // module/version: "/dir" is module "" and version "dir").
    if (!inv.module.empty()) check_identifier("module name", inv.module);
    if (!inv.module.empty() && !inv.version.empty()) check_identifier("module version", inv.version);
    for (auto& t : inv.targets) {
        if (!t.kver.empty()) check_identifier("kernel version", t.kver);
        if (!t.arch.empty()) check_identifier("architecture", t.arch);
    }
}

}  // namespace dkms::cli
