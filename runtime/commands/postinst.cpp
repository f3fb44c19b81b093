// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run postinst: the package helper run by the postinst snippet of dh_dkms (common.postinst's job).
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_postinst(Invocation& inv) {
    Ops ops(inv.ctx);
    return ops.postinst(require_module_version(inv));
}

extern const Command postinst_command{
    .name = "postinst",
    .summary = "package helper: add, build and install for the right kernels",
    .usage = "postinst module/version",
    .writes = true,
    .run = run_postinst,
};

}  // namespace dkms::cli
