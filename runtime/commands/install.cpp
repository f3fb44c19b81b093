// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run install: install a built module into each kernel's module tree (building first when needed).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_install(Invocation& inv) {
    Ops ops(inv.ctx);
    if (inv.source_path) {
        ModuleId id = ops.add_path(*inv.source_path, inv.targets.front());
        inv.module = id.name;
        inv.version = id.version;
    }
    ModuleId id = require_module_version(inv);
    return for_each_target(inv, [&](const Target& t) { ops.install(id, t); });
}

extern const Command install_command{
    .name = "install",
    .summary = "install a module into kernels",
    .usage = "install [module/version | source-dir] [-k kernel[/arch]]...",
    .needs_targets = true,
    .writes = true,
    .transaction = true,
    .run = run_install,
};

}  // namespace dkms::cli
