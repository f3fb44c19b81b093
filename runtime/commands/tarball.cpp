// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run mktarball / ldtarball: dkms archives of built modules, and loading them into a tree.
#include "../command.hpp"
#include "dkms/ops/tarball.hpp"

namespace dkms::cli {

static int run_mktarball(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    std::vector<Target> targets = inv.targets;
    if (inv.ctx.settings.all) targets = ops.tree().built_targets(id);
    // -a without -k gives an arch-only placeholder; mktarball needs real kernels.
    std::erase_if(targets, [](const Target& t) { return t.kver.empty(); });
    MkTarballOptions opt{inv.binaries_only, inv.source_only, inv.archive};
    make_tarball(ops, inv.ctx, id, targets, opt);
    return 0;
}

static int run_ldtarball(Invocation& inv) {
    if (!inv.archive) {
        // dkms parses a missing positional path as a module name, so it names nothing.
        std::string shown = inv.module.empty() && !inv.version.empty() ? "/" + inv.version : inv.module;
        throw Error(ExitCode::Usage, {shown + " does not exist.", "Usage: ldtarball <archive> or ldtarball --archive <archive>"});
    }
    Ops ops(inv.ctx);
    LoadedTarball r = load_tarball(ops, inv.ctx, *inv.archive);
    if (r.binaries_only)
        inv.ctx.report.out("Loaded " + r.id.str() + " without its source: it can be installed, not rebuilt.");
    return 0;
}

extern const Command mktarball_command{
    "mktarball", "make a dkms archive of a module's source and built modules",
    "mktarball module/version [-k kernel[/arch]]... [--all] [--binaries-only | --source-only] [--archive file]",
    true, true, true, run_mktarball};
extern const Command ldtarball_command{
    "ldtarball", "load a dkms archive (made by dkms-run or dkms) into the tree",
    "ldtarball <archive> [--force]", false, false, true, run_ldtarball};

}  // namespace dkms::cli
