// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run mktarball / ldtarball: dkms archives of built modules, and loading them into a tree.
#include "../command.hpp"
#include "dkms/ops/tarball.hpp"

namespace dkms::cli {

static ExitCode run_mktarball(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    std::vector<Target> targets = inv.targets;
    if (inv.ctx.settings.all) targets = ops.tree().built_targets(id);
    // -a without -k gives an arch-only placeholder; mktarball needs real kernels.
    std::erase_if(targets, [](const Target& t) { return t.kver.empty(); });
    MkTarballOptions opt{inv.binaries_only, inv.source_only, inv.archive};
    make_tarball(ops, inv.ctx, id, targets, opt);
    return ExitCode::Ok;
}

static ExitCode run_ldtarball(Invocation& inv) {
    if (!inv.archive) {
        // dkms parses a missing positional path as a module name, so it names nothing.
        std::string shown = inv.module.empty() && !inv.version.empty() ? "/" + inv.version : inv.module;
        throw Error(ExitCode::Usage,
                    {shown + " does not exist.", "Usage: ldtarball <archive> or ldtarball --archive <archive>"});
    }
    Ops ops(inv.ctx);
    LoadedTarball r = load_tarball(ops, inv.ctx, *inv.archive);
    if (r.binaries_only)
        inv.ctx.report.out("Loaded " + r.id.str() + " without its source: it can be installed, not rebuilt.");
    return ExitCode::Ok;
}

static const Option archive_option{
    .name = "archive",
    .value = "file",
    .help = "the archive mktarball writes (its suffix chooses the compression) or ldtarball loads",
    .apply = [](CommandLine& c, const std::string& v) { c.inv.archive = v; },
};
static const Option binaries_only_option{
    .name = "binaries-only",
    .help = "only the built modules and dkms.conf, without the source",
    .apply = [](CommandLine& c, const std::string&) { c.inv.binaries_only = true; },
};
static const Option source_only_option{
    .name = "source-only",
    .help = "only the source, without the built modules",
    .apply = [](CommandLine& c, const std::string&) { c.inv.source_only = true; },
};
static const Option* const mktarball_options[] = {&archive_option, &binaries_only_option, &source_only_option};
static const Option* const ldtarball_options[] = {&archive_option};

extern const Command mktarball_command{
    .name = "mktarball",
    .summary = "make a dkms archive of a module's source and built modules",
    .usage = "mktarball module/version [-k kernel[/arch]]... [--all] [--binaries-only | --source-only] "
             "[--archive file]",
    .options = mktarball_options,
    .accepts_all = true,
    .needs_targets = true,
    .writes = true,
    .run = run_mktarball,
};
extern const Command ldtarball_command{
    .name = "ldtarball",
    .summary = "load a dkms archive (made by dkms-run or dkms) into the tree",
    .usage = "ldtarball <archive> [--force]",
    .options = ldtarball_options,
    .writes = true,
    .run = run_ldtarball,
};

}  // namespace dkms::cli
