// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run uninstall: remove a module from kernels' module trees (it stays built).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_uninstall(Invocation& inv) {
    return undo_for_each_kernel(inv, [](Ops& ops, const ModuleId& id, const Target& t) { ops.uninstall(id, t); });
}

extern const Command uninstall_command{
    .name = "uninstall",
    .summary = "uninstall a module from kernels",
    .usage = "uninstall module/version [-k kernel[/arch]]... | --all",
    .accepts_all = true,
    .needs_targets = true,
    .writes = true,
    .transaction = true,
    .run = run_uninstall,
};

}  // namespace dkms::cli
