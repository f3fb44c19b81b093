// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run status: one line per module/version/kernel/arch, read from the tree without any process.
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_status(Invocation& inv) {
    Ops ops(inv.ctx);
    StatusFilter f{inv.module, inv.version, "", ""};
    // As dkms: -k K filters on the kernel (every arch), -a A or -k K/A on the arch too.
    if (!inv.targets.empty()) {
        if (inv.kernels_given) f.kver = inv.targets.front().kver;
        if (inv.arch_given) f.arch = inv.targets.front().arch;
    }
    auto rows = ops.status(f);
    if (inv.json) {
        inv.ctx.report.out(format_status_json(rows, ops.build_records(f)));
        return ExitCode::Ok;
    }
    for (auto& r : rows) {
        inv.ctx.report.out(format_status_line(r));
        if (r.state != "broken") continue;
        const std::string missing = ": Missing the module source directory or the symbolic link pointing to it.";
        print_error(inv.ctx.report,
                    Error(ExitCode::ConfMissing, {r.id.str() + missing, "Manual intervention is required!"}));
    }
    return ExitCode::Ok;
}

extern const Option json_option;  // doctor's too
const Option json_option{
    .name = "json",
    .help = "print one JSON document instead of the lines (docs/status-json.md, docs/doctor.md)",
    .apply = [](CommandLine& c, const std::string&) { c.inv.json = true; },
};
static const Option* const status_options[] = {&json_option};

extern const Command status_command{
    .name = "status",
    .summary = "show what is added, built and installed",
    .usage = "status [module[/version]] [-k kernel[/arch]] [--json]",
    .options = status_options,
    .accepts_all = true,
    .run = run_status,
};

}  // namespace dkms::cli
