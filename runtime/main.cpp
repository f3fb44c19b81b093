// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run: dkms's command line (actions and options in any order) -> Context -> command -> exit code.
// Parsing is options.cpp's, dkms's checks setup.cpp's, each action's work its commands/<verb>.cpp's.
#include <sys/stat.h>

#include <optional>

#include "cli.hpp"
#include "config.h"
#include "dkms/sys/lock.hpp"
#include "dkms/sys/process.hpp"
#include "reporter.hpp"

using namespace dkms;
using namespace dkms::cli;

namespace {

// The command under the tree's lock when it writes; the post_transaction hook after a change.
ExitCode dispatch(const Command& cmd, Invocation& inv) {
    std::optional<TreeLock> lock;
    if (cmd.writes) lock.emplace(inv.ctx.settings.dkms_tree, inv.ctx.report, inv.ctx.settings.lock_timeout);
    ExitCode rc = cmd.run(inv);
    if (rc == ExitCode::Ok && cmd.transaction && !interrupted_signal()) run_post_transaction(inv.ctx, inv.targets);
    // A signal may have been met by code that carries on after failures (autoinstall's modules).
    throw_if_interrupted();
    return rc;
}

ExitCode run(int argc, char** argv, Reporter& rep) {
    umask(022);
    install_interrupt_handlers();
    Context ctx{default_settings(), rep};
    Invocation inv{.ctx = ctx};
    CommandLine line{.inv = inv};
    parse_command_line(argc, argv, line);
    if (line.version) {
        // Called through the dkms link, the version of the dkms it stands in for, in dkms's form
        // (scripts parse "dkms-<version>", so nothing else is printed).
        bool as_dkms = fs::path(argv[0]).filename() == "dkms";
        rep.out(as_dkms ? "dkms-" DKMS_COMPAT_VERSION : "dkms-run-" DKMS_RUN_VERSION);
        return ExitCode::Ok;
    }
    if (line.quiet) silence_output();
    set_up_paths(line);
    if (line.help) {
        const Command* cmd = find_command(inv.action);
        cmd ? print_command_help(rep, *cmd) : print_usage(rep);
        return ExitCode::Ok;
    }
    const Command& cmd = check_command_line(line);
    check_names(inv);
    return dispatch(cmd, inv);
}

Error stopped(const Interrupted& e) {
    return Error(ExitCode(128 + e.signal()),
                 {std::string("Stopped: ") + e.what() + "; the programs it ran were stopped, temporary files removed.",
                  "What was complete stays (dkms-run status shows it); run the command again to finish."});
}

}  // namespace

int main(int argc, char** argv) {
    StdReporter rep;
    ExitCode rc;
    try {
        rc = run(argc, argv, rep);
    } catch (const Interrupted& e) {
        print_error(rep, stopped(e));
        rc = ExitCode(128 + e.signal());
    } catch (const ShowUsage& e) {
        print_error(rep, e);
        print_usage(rep);
        rc = e.code();
    } catch (const Error& e) {
        print_error(rep, e);
        rc = interrupted_signal() ? ExitCode(128 + interrupted_signal()) : e.code();
    } catch (const std::filesystem::filesystem_error& e) {
        print_error(rep, Error(ExitCode::Error, e.what()));
        rc = ExitCode::Error;
    } catch (const std::exception& e) {
        print_error(rep, Error(ExitCode::Error, std::string("internal error: ") + e.what()));
        rc = ExitCode::Error;
    }
    return int(rc);
}
