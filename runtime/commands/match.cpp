// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run match: install on kernel K the module versions installed on a template kernel T.
#include "../command.hpp"

namespace dkms::cli {

static ExitCode run_match(Invocation& inv) {
    Reporter& r = inv.ctx.report;
    // dkms: have_one_kernel first, then the template kernel.
    if (inv.targets.size() != 1)
        throw Error(ExitCode::ConfMissing,
                    "The action match does not support multiple kernel version parameters on the command line.");
    if (!inv.template_kernel || inv.template_kernel->empty())
        throw Error(ExitCode::Error, {"Invalid number of parameters passed.",
                                      "Usage: match --templatekernel=<kernel-version> -k <kernel-version>",
                                      "   or: match --templatekernel=<kernel-version> -k <kernel-version> <module>"});
    const Target k = inv.targets.front();
    const Target t{*inv.template_kernel, k.arch};
    if (t.kver == k.kver)
        throw Error(ExitCode::Usage, "The templatekernel and the specified kernel version are the same.");
    check_identifier("kernel version", *inv.template_kernel);
    Ops ops(inv.ctx);
    if (!inv.module.empty() && !std::filesystem::is_directory(ops.tree().module_dir(inv.module)))
        throw Error(ExitCode::NotFound, "The module: " + inv.module + " is not located in the DKMS tree.");

    r.out("");
    r.out("Matching modules in kernel: " + k.kver + " (" + k.arch + ")");
    r.out("to the configuration of kernel: " + t.kver + " (" + t.arch + ")");
    std::vector<ModuleId> todo;
    std::vector<std::string> names = inv.module.empty() ? ops.tree().modules() : std::vector<std::string>{inv.module};
    for (auto& m : names) {
        std::string v = ops.tree().installed_version(m, t);
        if (!v.empty() && (inv.version.empty() || v == inv.version)) todo.push_back({m, v});
    }
    if (todo.empty()) {
        r.out("");
        r.out("There is nothing to be done for this match.");
        return ExitCode::Ok;
    }
    ops.check_headers(k);  // dkms's prepare_kernel, once, before the first module
    ExitCode rc = ExitCode::Ok;
    for (auto& id : todo) {
        r.out("Module:  " + id.name);
        r.out("Version: " + id.version);
        try {
            ops.build(id, k);  // "already built ..., skip." when it is
            ops.install(id, k);
        } catch (const Error& e) {
            print_error(r, e);
            rc = e.code();
        }
    }
    return rc;
}

static const Option template_kernel_option{
    .name = "templatekernel",
    .value = "kernel",
    .help = "the kernel whose installed modules are matched",
    .apply = [](CommandLine& c, const std::string& v) { c.inv.template_kernel = v; },
};
static const Option* const match_options[] = {&template_kernel_option};

extern const Command match_command{
    .name = "match",
    .summary = "install on a kernel the modules installed on a template kernel",
    .usage = "match --templatekernel <kernel> -k <kernel>[/arch] [module]",
    .options = match_options,
    .needs_targets = true,
    .writes = true,
    .run = run_match,
};

}  // namespace dkms::cli
