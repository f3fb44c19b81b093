// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel lifecycle: autoinstall (= kernel_postinst), kernel_preinst and kernel_prerm.
#pragma once

#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/core/error.hpp"

namespace dkms {

/// `autoinstall -k K` / `kernel_postinst -k K` with upstream dkms 3.4 semantics: the latest
/// version of every module in the tree, already installed ones counted as successes, the
/// others built when AUTOINSTALL is set, BUILD_DEPENDS first. Differences by design:
/// independent modules build concurrently under one job budget (a GNU make jobserver of
/// `make_jobs()` slots, or the one inherited through MAKEFLAGS); installs are done one at a
/// time and depmod runs once at the end. Output of each module is printed as one block when
/// the module is done. Returns 0, 11 (something failed or a dependency is missing), or 21
/// (headers missing while something needs building). Never throws for a module's failure.
ExitCode autoinstall(Context& ctx, const Target& t);

/// `kernel_preinst -k K`: unbuild every AUTOINSTALL module built for K (so that kernel_postinst
/// rebuilds it for a kernel upgraded in place); depmod once. 14 if any unbuild failed.
ExitCode kernel_preinst(Context& ctx, const Target& t);

/// `kernel_prerm -k K`: unbuild every module built for K, AUTOINSTALL or not; depmod once;
/// empty directories under <install_tree>/K are removed. 14 if any unbuild failed.
ExitCode kernel_prerm(Context& ctx, const Target& t);

/// Where Debian's dkms 3.0.x keeps its kernel prerm hook: <root>/etc/kernel/prerm.d/dkms. It is a
/// conffile, so it stays when dkms-run replaces dkms (dkms in state "rc"), and it still runs on
/// every kernel removal: `dkms remove -m M -v V -k K -a A` for each module installed on K, which
/// deletes M/V from the tree entirely when K was its last kernel.
fs::path legacy_prerm_hook(const Paths& s);

/// True when `parent_argv` (the argument vector of the process that started us) runs
/// legacy_prerm_hook(s): one of its arguments after the interpreter is that file (compared after
/// resolving symlinks). run-parts and Debian's /etc/kernel/install.d/dkms both start it by its
/// absolute path, and the hook's `dkms remove` runs in a subshell that keeps its arguments.
bool is_legacy_prerm_hook(const Settings& s, const std::vector<std::string>& parent_argv);

}  // namespace dkms
