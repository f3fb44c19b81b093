// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run unbuild: delete the build of a module for kernels (it stays added).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_unbuild(Invocation& inv) {
    return undo_for_each_kernel(inv, [](Ops& ops, const ModuleId& id, const Target& t) { ops.unbuild(id, t); });
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
