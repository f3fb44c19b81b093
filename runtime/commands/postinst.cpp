// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run postinst: the package helper run by the postinst snippet of dh_dkms (common.postinst's job).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_postinst(Invocation& inv) {
    Ops ops(inv.ctx);
    PostinstOptions opt;
    if (inv.kernels_given)
        for (auto& t : inv.targets) opt.kernels.push_back(t.kver);
    if (inv.arch_given) {
        opt.arch = inv.targets.front().arch;
        for (auto& t : inv.targets)
            if (t.arch != opt.arch) throw Error(ExitCode::Usage, "postinst builds for one architecture: give -a once.");
    }
    if (inv.archive) opt.archive = fs::absolute(*inv.archive);
    return ops.postinst(require_module_version(inv), opt);
}

extern const Command postinst_command{
    .name = "postinst",
    .summary = "package helper: add, build and install for the right kernels",
    .usage = "postinst module/version [-k kernel]... [-a arch] [--archive file]",
    .writes = true,
    .run = run_postinst,
};

}  // namespace dkms::cli
