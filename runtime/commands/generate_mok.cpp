// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run generate_mok: create the Secure Boot signing key pair (once), as dkms 3.4's generate_mok.
#include "../command.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/signing.hpp"

namespace dkms::cli {

static ExitCode run_generate_mok(Invocation& inv) {
    Context& ctx = inv.ctx;
    Target t = inv.targets.empty() ? Target{running_kernel(), machine_arch()} : inv.targets.front();
    MokPaths mok = mok_paths(ctx.settings, read_signing_settings(ctx.settings, t));
    ctx.report.out("Signing key: " + shown_key(mok.key));
    ctx.report.out("Public certificate (MOK): " + mok.cert.string());
    // Throws, naming the missing half, if only one exists; exit 1 (dkms's prepare_mok) when none can be made.
    if (ensure_mok(ctx, mok) == MokState::Unavailable) return ExitCode::Error;
    report_mok_enrolment(ctx, mok.cert);
    return ExitCode::Ok;
}

extern const Command generate_mok_command{
    .name = "generate_mok",
    .summary = "create the module signing key and certificate if missing",
    .usage = "generate_mok",
    .needs_targets = true,
    .run = run_generate_mok,
};

}  // namespace dkms::cli
