// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run unbuild: delete the build of a module for kernels (it stays added).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_unbuild(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    if (!ops.tree().is_added(id) && !ops.tree().is_broken(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    if (inv.ctx.settings.all) inv.targets = ops.tree().built_targets(id);
    bool first = true;  // dkms: a blank line between kernels
    return for_each_target(inv, [&](const Target& t) {
        if (!first) inv.ctx.report.out("");
        first = false;
        ops.unbuild(id, t);
    });
}

extern const Command unbuild_command{
    .name = "unbuild",
    .summary = "unbuild a module for kernels",
    .usage = "unbuild module/version [-k kernel[/arch]]... | --all",
    .accepts_all = true,
    .needs_targets = true,
    .writes = true,
    .transaction = true,
    .run = run_unbuild,
};

}  // namespace dkms::cli
