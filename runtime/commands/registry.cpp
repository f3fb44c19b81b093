// SPDX-License-Identifier: GPL-2.0-or-later
// The table of commands; --help is generated from it.
#include "../command.hpp"

namespace dkms::cli {

extern const Command add_command, build_command, install_command, uninstall_command, unbuild_command,
    remove_command, status_command, postinst_command, lint_command, generate_mok_command;
extern const Command autoinstall_command, kernel_postinst_command, kernel_preinst_command, kernel_prerm_command;
extern const Command mktarball_command, ldtarball_command, match_command,  // archives (tarball.cpp, match.cpp)
    mkbmdeb_command, mkdeb_command, mkdsc_command;                          // packages (mkbmdeb.cpp)

const std::vector<const Command*>& commands() {
    static const std::vector<const Command*> table{&add_command,     &build_command,  &install_command,
                                                   &uninstall_command, &unbuild_command, &remove_command,
                                                   &status_command,  &postinst_command, &lint_command,
                                                   &mktarball_command, &ldtarball_command, &match_command,
                                                   &mkbmdeb_command, &mkdeb_command, &mkdsc_command,
                                                   &generate_mok_command, &autoinstall_command, &kernel_postinst_command,
                                                   &kernel_preinst_command, &kernel_prerm_command};
    return table;
}

const Command* find_command(const std::string& name) {
    for (auto* c : commands())
        if (name == c->name) return c;
    return nullptr;
}

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

int for_each_target(Invocation& inv, const std::function<void(const Target&)>& fn) {
    int rc = 0;
    for (auto& t : inv.targets) {
        try {
            fn(t);
            rc = 0;
        } catch (const Error& e) {
            print_error(inv.ctx.report, e);
            rc = int(e.code());
        }
    }
    return rc;
}

}  // namespace dkms::cli
