// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run postinst: the package helper run by the postinst snippet of dh_dkms (common.postinst's job).
#include "../command.hpp"

namespace dkms::cli {

static int run_postinst(Invocation& inv) {
    Ops ops(inv.ctx);
    return int(ops.postinst(require_module_version(inv)));
}

extern const Command postinst_command{"postinst", "package helper: add, build and install for the right kernels",
                                      "postinst module/version", false, false, true, run_postinst};

}  // namespace dkms::cli
