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
        if (hook)
            throw Error(ExitCode::ConfMissing,
                        "The action " + inv.action + " requires exactly one kernel version parameter on the command line.");
        throw Error(ExitCode::ConfMissing, "The action " + inv.action +
                                               " does not support multiple kernel version parameters on the command line.");
    }
    return inv.targets.front();
}

int run_autoinstall(Invocation& inv) { return int(autoinstall(inv.ctx, one_kernel(inv))); }
int run_kernel_preinst(Invocation& inv) { return int(kernel_preinst(inv.ctx, one_kernel(inv))); }
int run_kernel_prerm(Invocation& inv) { return int(kernel_prerm(inv.ctx, one_kernel(inv))); }

}  // namespace

extern const Command autoinstall_command{"autoinstall", "build and install the latest version of every AUTOINSTALL module",
                                         "autoinstall [-k kernel[/arch]]", false, true, true, run_autoinstall};
extern const Command kernel_postinst_command{"kernel_postinst", "kernel hook: autoinstall for a new kernel",
                                             "kernel_postinst -k kernel[/arch]", false, true, true, run_autoinstall};
extern const Command kernel_preinst_command{"kernel_preinst", "kernel hook: unbuild AUTOINSTALL modules before a kernel upgrade",
                                            "kernel_preinst -k kernel[/arch]", false, true, true, run_kernel_preinst};
extern const Command kernel_prerm_command{"kernel_prerm", "kernel hook: unbuild every module of a kernel being removed",
                                          "kernel_prerm -k kernel[/arch]", false, true, true, run_kernel_prerm};

}  // namespace dkms::cli
