// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run add: register a module source (by m/v or by source directory).
#include "../command.hpp"

namespace dkms::cli {

static int run_add(Invocation& inv) {
    Ops ops(inv.ctx);
    Target conf_t = inv.targets.empty() ? Target{running_kernel(), machine_arch()} : inv.targets.front();
    if (inv.source_path) {
        ModuleId id = ops.add_path(*inv.source_path, conf_t);
        inv.module = id.name;
        inv.version = id.version;
    }
    return ops.add(require_module_version(inv), conf_t);
}

extern const Command add_command{"add", "add a module source to the dkms tree", "add [module/version | source-dir]",
                                 false, true, true, run_add};

}  // namespace dkms::cli
