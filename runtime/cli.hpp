// SPDX-License-Identifier: GPL-2.0-or-later
// From argv to a checked Invocation, in dkms's order: what runtime/main.cpp calls.
#pragma once

#include "command.hpp"

namespace dkms::cli {

/// An error of the command line after which dkms prints its usage (an unknown option or action).
class ShowUsage : public Error {
public:
    using Error::Error;
};

// options.cpp: the options of every action, argv, --help.

/// Reads argv into `c`: each option, in command-line order, does what its table says; each other word
/// is the action, a source directory or dkms.conf, an archive, or module/version (dkms's rules).
/// Throws ShowUsage for an unknown option, Error for a bad value. Stops at --version.
/// Boost.Program_options is told only of the options argv's words may name; `describe_every_option`
/// tells it of all of them (the same result, slower: the unit tests compare the two).
void parse_command_line(int argc, char** argv, CommandLine& c, bool describe_every_option = false);
/// Boost's key of every option (its long name, or "-x"), in the order of --help.
std::vector<std::string> option_keys();
/// --help without an action (and after an unknown option or action): the usage, the actions, and
/// every option as Boost.Program_options prints them (the general ones, then each action's own).
void print_usage(Reporter& r);
/// ACTION --help: its usage, its summary and its own options.
void print_command_help(Reporter& r, const Command& cmd);

// setup.cpp: settings and dkms's checks of the whole command line.

/// The compiled-in trees and what the environment says (TMPDIR, parallel_jobs).
Settings default_settings();
/// --root, framework.conf, then --dkmstree/--sourcetree/--installtree (which win), as dkms does.
void set_up_paths(CommandLine& c);
/// dkms's checks of the command line, in its order (os-release first, the action's --all last), then
/// the targets: -k/-a paired, the running kernel by default. Returns the action's command.
const Command& check_command_line(CommandLine& c);
/// Refuses hostile module, version, kernel and arch names before anything touches the disk.
void check_names(const Invocation& inv);

}  // namespace dkms::cli
