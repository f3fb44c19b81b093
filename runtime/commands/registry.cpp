// SPDX-License-Identifier: GPL-2.0-or-later
// The table of commands, in the order --help lists them; each is defined in its own file.
#include "../command.hpp"

namespace dkms::cli {

extern const Command add_command, build_command, install_command, uninstall_command, unbuild_command,
    remove_command, status_command, postinst_command, lint_command, generate_mok_command, doctor_command;
extern const Command autoinstall_command, kernel_postinst_command, kernel_preinst_command, kernel_prerm_command;
extern const Command mktarball_command, ldtarball_command, match_command,  // archives (tarball.cpp, match.cpp)
    mkbmdeb_command, mkdeb_command, mkdsc_command;                          // packages (mkbmdeb.cpp)

const std::vector<const Command*>& commands() {
    static const std::vector<const Command*> table{
        &add_command,       &build_command,     &install_command,      &uninstall_command,
        &unbuild_command,   &remove_command,    &status_command,       &postinst_command,
        &lint_command,      &mktarball_command, &ldtarball_command,    &match_command,
        &mkbmdeb_command,   &mkdeb_command,     &mkdsc_command,        &generate_mok_command,
        &doctor_command,
        &autoinstall_command, &kernel_postinst_command, &kernel_preinst_command, &kernel_prerm_command,
    };
    return table;
}

const Command* find_command(const std::string& name) {
    for (auto* c : commands())
        if (name == c->name) return c;
    return nullptr;
}

}  // namespace dkms::cli
