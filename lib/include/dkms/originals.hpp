// SPDX-License-Identifier: GPL-2.0-or-later
// Modules of the kernel that a dkms module replaces: archived on install with their origin,
// restored on uninstall (dkms 3.4's <dkms_tree>/<m>/original_module/<K>/<A> layout).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dkms/context.hpp"
#include "dkms/dkms_conf.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// <dkms_tree>/<m>/original_module/<K>/<A>
fs::path original_module_dir(const Settings& s, const std::string& m, const Target& t);

/// Every <name>.ko[.gz|.xz|.zst] under <install_tree>/<K> (build/ and source/ links not followed), sorted.
std::vector<fs::path> find_kernel_modules(const fs::path& kdir, const std::string& name);

/// Before module `rec` of dkms module `m` is installed: move the kernel's module of the same name
/// into the archive with a "<file>.origin" holding its path, as dkms 3.4 does. Only when `m` has no
/// version active on this kernel yet (`active` false). Same-named modules in several places
/// ("collisions") are all archived under collisions/<dir>/. Each file is copied or renamed into the
/// archive and its .origin written before it leaves the install tree, so a crash loses nothing.
void archive_originals(const Context& ctx, const std::string& m, const Target& t, const ModuleRecord& rec, bool active);

/// After uninstall of dkms module `m`: move every archived file back to the path in its .origin
/// (only paths inside <install_tree>/<K>), then drop original_module/<K>/<A> and empty parents.
/// Returns the number of files restored.
int restore_originals(const Context& ctx, const std::string& m, const Target& t);

}  // namespace dkms
