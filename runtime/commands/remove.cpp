// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run remove: unbuild for kernels, then drop the module version from the tree (sources stay).
#include "../command.hpp"

namespace dkms::cli {

static int run_remove(Invocation& inv) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    ops.finish_interrupted_remove(id.name);
    if (!ops.tree().is_added(id) && !ops.tree().is_broken(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    if (inv.ctx.settings.all) inv.targets = ops.tree().built_targets(id);
    ops.remove(id, inv.targets);
    return 0;
}

extern const Command remove_command{"remove", "remove a module version from the dkms tree",
                                    "remove module/version [-k kernel[/arch]]... | --all", true, true, true, run_remove};

}  // namespace dkms::cli
