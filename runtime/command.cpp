// SPDX-License-Identifier: GPL-2.0-or-later
// What every command shares: how an Error is printed, the module/version check, the loops over kernels.
#include "command.hpp"

namespace dkms::cli {

void print_error(Reporter& r, const Error& e) {
    if (e.lines().empty()) return;
    r.err("");
    bool first = true;
    for (auto& l : e.lines()) {
        r.err(first ? "Error! " + l : l);
        first = false;
    }
}

ModuleId require_module_version(const Invocation& inv) {
    // build and install add the module first, and dkms's add names itself in the usage lines.
    const std::string verb = inv.action == "build" || inv.action == "install" ? "add" : inv.action;
    if (inv.module.empty() || inv.version.empty())
        throw Error(ExitCode::Error, {"Arguments <module> and <module-version> are not specified.",
                                      "Usage: " + verb + " <module>/<module-version> or",
                                      "       " + verb + " -m <module>/<module-version> or",
                                      "       " + verb + " -m <module> -v <module-version>"});
    return {inv.module, inv.version};
}

ExitCode for_each_target(Invocation& inv, const std::function<void(const Target&)>& fn) {
    ExitCode rc = ExitCode::Ok;
    for (auto& t : inv.targets) {
        try {
            fn(t);
            rc = ExitCode::Ok;
        } catch (const Error& e) {
            print_error(inv.ctx.report, e);
            rc = e.code();
        }
    }
    return rc;
}

ExitCode undo_for_each_kernel(Invocation& inv, const std::function<void(Ops&, const ModuleId&, const Target&)>& undo) {
    Ops ops(inv.ctx);
    ModuleId id = require_module_version(inv);
    if (!ops.tree().is_added(id) && !ops.tree().is_broken(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    if (inv.ctx.settings.all) inv.targets = ops.tree().built_targets(id);
    bool first = true;  // dkms: a blank line between kernels
    return for_each_target(inv, [&](const Target& t) {
        if (!first) inv.ctx.report.out("");
        first = false;
        undo(ops, id, t);
    });
}

}  // namespace dkms::cli
