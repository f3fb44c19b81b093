// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run build: compile a module for each kernel (adding it first when needed).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_build(Invocation& inv) {
    Ops ops(inv.ctx);
    if (inv.source_path) {
        ModuleId id = ops.add_path(*inv.source_path, inv.targets.front());
        inv.module = id.name;
        inv.version = id.version;
    }
    ModuleId id = require_module_version(inv);
    return for_each_target(inv, [&](const Target& t) { ops.build(id, t); });
}

extern const Command build_command{
    .name = "build",
    .summary = "build a module for kernels",
    .usage = "build [module/version | source-dir] [-k kernel[/arch]]...",
    .needs_targets = true,
    .writes = true,
    .run = run_build,
};

}  // namespace dkms::cli
