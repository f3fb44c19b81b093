// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run doctor: a read-only check of the machine (or --root), one problem per line with its fix
// (docs/doctor.md); exit 0 with no output when all is well, 1 otherwise.
#include "../command.hpp"
#include "dkms/ops/doctor.hpp"

namespace dkms::cli {

static ExitCode run_doctor(Invocation& inv) {
    std::vector<Problem> problems = doctor(inv.ctx, DoctorProbes::of_machine(inv.ctx.settings));
    if (inv.json) {
        inv.ctx.report.out(format_doctor_json(problems));
    } else {
        for (auto& p : problems) {
            inv.ctx.report.out(p.kind + ": " + p.text);
            inv.ctx.report.out("  fix: " + p.fix);
        }
    }
    return problems.empty() ? ExitCode::Ok : ExitCode::Error;
}

extern const Option json_option;  // status's (commands/status.cpp)
static const Option* const doctor_options[] = {&json_option};

extern const Command doctor_command{
    .name = "doctor",
    .summary = "check the machine for what keeps modules from working (read-only)",
    .usage = "doctor [--json]",
    .options = doctor_options,
    .run = run_doctor,
};

}  // namespace dkms::cli
