// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run remove: unbuild for kernels, then drop the module version from the tree (sources stay).
#include <unistd.h>

#include "../command.hpp"
#include "dkms/ops/autoinstall.hpp"
#include "dkms/sys/process.hpp"

namespace dkms::cli {

static ExitCode run_remove(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    ops.finish_interrupted_remove(id.name);
    if (!ops.tree().is_added(id) && !ops.tree().is_broken(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    // Debian dkms's prerm.d/dkms, a conffile left behind when dkms-run replaced dkms, runs
    // `dkms remove -m M -v V -k K -a A` on every kernel removal; a plain remove would delete M/V
    // entirely when K is its last kernel, and no later kernel would get it. Do what dkms-run's
    // own prerm hook (kernel_prerm) does instead: unbuild for K only.
    if (inv.kernels_given && !inv.ctx.settings.all && inv.targets.size() == 1 &&
        is_legacy_prerm_hook(inv.ctx.settings, process_argv(int(getppid())))) {
        const Target& t = inv.targets.front();
        inv.ctx.report.out("Called by " + legacy_prerm_hook(inv.ctx.settings).string() +
                           " (Debian dkms's kernel hook, left behind): unbuilding " + id.str() + " for kernel " +
                           t.kver + " (" + t.arch + ") only; it stays added, as with kernel_prerm.");
        ops.unbuild(id, t);
        return ExitCode::Ok;
    }
    if (inv.ctx.settings.all) inv.targets = ops.tree().built_targets(id);
    ops.remove(id, inv.targets);
    return ExitCode::Ok;
}

extern const Command remove_command{
    .name = "remove",
    .summary = "remove a module version from the dkms tree",
    .usage = "remove module/version [-k kernel[/arch]]... | --all",
    .accepts_all = true,
    .needs_targets = true,
    .writes = true,
    .transaction = true,
    .run = run_remove,
};

}  // namespace dkms::cli
