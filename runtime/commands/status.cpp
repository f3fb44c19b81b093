// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run status: one line per module/version/kernel/arch, read from the tree without any process.
#include "../command.hpp"

namespace dkms::cli {

static int run_status(Invocation& inv) {
    Ops ops(inv.ctx);
    StatusFilter f{inv.module, inv.version, "", ""};
    // As dkms: -k K filters on the kernel (every arch), -a A or -k K/A on the arch too.
    if (!inv.targets.empty()) {
        if (inv.kernels_given) f.kver = inv.targets.front().kver;
        if (inv.arch_given) f.arch = inv.targets.front().arch;
    }
    auto rows = ops.status(f);
    if (inv.json) {
        inv.ctx.report.out(format_status_json(rows));
        return 0;
    }
    for (auto& r : rows) {
        inv.ctx.report.out(format_status_line(r));
        if (r.state == "broken") {
            inv.ctx.report.err("");
            inv.ctx.report.err("Error! " + r.id.str() + ": Missing the module source directory or the symbolic link pointing to it.");
            inv.ctx.report.err("Manual intervention is required!");
        }
    }
    return 0;
}

extern const Command status_command{"status", "show what is added, built and installed",
                                    "status [module[/version]] [-k kernel[/arch]] [--json]", true, false, false, run_status};

}  // namespace dkms::cli
