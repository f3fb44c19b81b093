// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run autoinstall / kernel_postinst / kernel_preinst / kernel_prerm: every module for one kernel.
#include "../command.hpp"
#include "dkms/ops/autoinstall.hpp"

namespace dkms::cli {

namespace {

// dkms's have_one_kernel: exactly one kernel; the kernel hooks need it given with -k (the running
// kernel is no default for them: a bare kernel_prerm would unbuild everything of the running kernel).
const Target& one_kernel(const Invocation& inv) {
    bool hook = inv.action.rfind("kernel_", 0) == 0;
    if (inv.targets.size() != 1 || (hook && !inv.kernels_given)) {
        const std::string action = "The action " + inv.action;
        if (hook)
            throw Error(ExitCode::ConfMissing,
                        action + " requires exactly one kernel version parameter on the command line.");
        throw Error(ExitCode::ConfMissing,
                    action + " does not support multiple kernel version parameters on the command line.");
    }
    return inv.targets.front();
}

ExitCode run_autoinstall(Invocation& inv) { return autoinstall(inv.ctx, one_kernel(inv)); }
ExitCode run_kernel_preinst(Invocation& inv) { return kernel_preinst(inv.ctx, one_kernel(inv)); }
ExitCode run_kernel_prerm(Invocation& inv) { return kernel_prerm(inv.ctx, one_kernel(inv)); }

}  // namespace

extern const Command autoinstall_command{
    .name = "autoinstall",
    .summary = "build and install the latest version of every AUTOINSTALL module",
    .usage = "autoinstall [-k kernel[/arch]]",
    .needs_targets = true,
    .writes = true,
    .run = run_autoinstall,
};
extern const Command kernel_postinst_command{
    .name = "kernel_postinst",
    .summary = "kernel hook: autoinstall for a new kernel",
    .usage = "kernel_postinst -k kernel[/arch]",
    .needs_targets = true,
    .writes = true,
    .run = run_autoinstall,
};
extern const Command kernel_preinst_command{
    .name = "kernel_preinst",
    .summary = "kernel hook: unbuild AUTOINSTALL modules before a kernel upgrade",
    .usage = "kernel_preinst -k kernel[/arch]",
    .needs_targets = true,
    .writes = true,
    .run = run_kernel_preinst,
};
extern const Command kernel_prerm_command{
    .name = "kernel_prerm",
    .summary = "kernel hook: unbuild every module of a kernel being removed",
    .usage = "kernel_prerm -k kernel[/arch]",
    .needs_targets = true,
    .writes = true,
    .run = run_kernel_prerm,
};

}  // namespace dkms::cli
