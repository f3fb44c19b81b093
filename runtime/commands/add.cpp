// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run add: register a module source (by m/v or by source directory).
#include "../command.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms::cli {

static ExitCode run_add(Invocation& inv) {
    Ops ops(inv.ctx);
    Target conf_t = inv.targets.empty() ? Target{running_kernel(), machine_arch()} : inv.targets.front();
    if (inv.source_path) {
        ModuleId id = ops.add_path(*inv.source_path, conf_t);
        inv.module = id.name;
        inv.version = id.version;
    }
    return ExitCode(ops.add(require_module_version(inv), conf_t));  // POST_ADD's exit status
}

extern const Command add_command{
    .name = "add",
    .summary = "add a module source to the dkms tree",
    .usage = "add [module/version | source-dir]",
    .needs_targets = true,
    .writes = true,
    .run = run_add,
};

}  // namespace dkms::cli
