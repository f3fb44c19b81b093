// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run mkbmdeb / mkdeb / mkdsc: Debian packages of a module (binary modules, or its source).
#include <algorithm>

#include "../command.hpp"
#include "dkms/debs.hpp"

namespace dkms::cli {

static DebOptions deb_options(const Invocation& inv) {
    DebOptions o;
    if (inv.output_dir) o.output_dir = *inv.output_dir;
    return o;
}

static int run_mkbmdeb(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    std::vector<Target> targets = inv.ctx.settings.all ? ops.tree().built_targets(id) : inv.targets;
    std::erase_if(targets, [](const Target& t) { return t.kver.empty(); });
    // The package form follows the command line, not how many kernels happen to be built: one -k
    // gives the per-kernel package; several -k, or --all, one package for all of them.
    DebOptions o = deb_options(inv);
    std::vector<Target> distinct;
    for (auto& t : targets)
        if (std::find(distinct.begin(), distinct.end(), t) == distinct.end()) distinct.push_back(t);
    o.one_package = inv.ctx.settings.all || distinct.size() > 1;
    make_binary_debs(ops, inv.ctx, id, o.one_package ? distinct : targets, o);
    return 0;
}

static int run_mkdeb(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_deb(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return 0;
}

static int run_mkdsc(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_dsc(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return 0;
}

extern const Command mkbmdeb_command{
    "mkbmdeb", "make a binary module package (.deb) of built modules for the kernels",
    "mkbmdeb module/version [-k kernel[/arch]]... [--all] [--output-dir dir]", true, true, false, run_mkbmdeb};
extern const Command mkdeb_command{
    "mkdeb", "make a <module>-dkms source package (.deb)",
    "mkdeb module/version [--output-dir dir]", false, false, false, run_mkdeb};
extern const Command mkdsc_command{
    "mkdsc", "make a Debian source package (.dsc) of a module's source",
    "mkdsc module/version [--output-dir dir]", false, false, false, run_mkdsc};

}  // namespace dkms::cli
