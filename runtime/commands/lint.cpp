// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run lint [PATH...]: the build-time checks of dh_dkms, for a dkms.conf, a module
// source directory or a source package (debian/), without building anything.
#include "../command.hpp"
#include "dkms/lint/lint.hpp"

namespace dkms::cli {

static ExitCode run_lint(Invocation& inv) {
    std::vector<std::string> paths = inv.extra_args;
    if (inv.source_path) paths.push_back(inv.source_path->string());
    if (paths.empty()) paths.push_back(".");
    bool errors = false;
    size_t count = 0;
    for (auto& p : paths) {
        auto findings = lint::lint_path(p);
        for (auto& f : findings) inv.ctx.report.out(lint::format_finding(f));
        errors = errors || lint::has_errors(findings);
        count += findings.size();
    }
    if (count == 0) inv.ctx.report.verbose("No findings.");
    return errors ? ExitCode::Error : ExitCode::Ok;
}

extern const Command lint_command{
    .name = "lint",
    .summary = "check a dkms.conf, module source or source package (exit 1 on errors)",
    .usage = "lint [PATH...]  (PATH: dkms.conf, its directory, or a dir with debian/; default .)",
    .run = run_lint,
};

}  // namespace dkms::cli
