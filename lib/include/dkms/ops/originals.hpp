// SPDX-License-Identifier: GPL-2.0-or-later
// Whose a file of the install tree is, and the kernel's own modules that a dkms module replaces:
// archived on install with their origin, restored on uninstall (dkms 3.4's
// <dkms_tree>/<m>/original_module/<K>/<A> layout).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/conf/dkms_conf.hpp"
#include "dkms/tree/tree.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// The dkms module/version that installed the file at `p` in t's kernel directory: the one whose
/// manifest records it there with the file's present bytes, or (a tree written by dkms, without a
/// manifest) an installed build with a module of that name and the same bytes. Empty for a file no
/// dkms module put there (the kernel's own, dpkg's).
std::optional<ModuleId> installed_by(const Tree& tree, const fs::path& p, const Target& t);

/// A file that an installed build's manifest records at a place of the install tree.
struct Claim {
    ModuleId id;
    ManifestFile file;
};
/// The installed builds (kernel link on them) whose manifest records a file at `p`, whatever is there now.
std::vector<Claim> claims_on(const Tree& tree, const fs::path& p, const Target& t);

/// <dkms_tree>/<m>/original_module/<K>/<A>
fs::path original_module_dir(const Paths& s, const std::string& m, const Target& t);

/// Every <name>.ko[.gz|.xz|.zst] under <install_tree>/<K> (build/ and source/ links not followed), sorted.
std::vector<fs::path> find_kernel_modules(const fs::path& kdir, const std::string& name);

/// Before module `rec` of dkms module `m` is installed: move the kernel's module of the same name
/// into the archive with a "<file>.origin" holding its path, as dkms 3.4 does; never on Debian-family
/// systems (Debian's dkms leaves dpkg's files in place), never a file another dkms module installed,
/// and only when `m` has no version active on this kernel yet (`active` false). Same-named modules in
/// several places ("collisions") are all archived under collisions/<dir>/. Each file is copied or
/// renamed into the archive and its .origin written before it leaves the install tree.
void archive_originals(const Context& ctx, const Tree& tree, const std::string& m, const Target& t,
                       const ModuleRecord& rec, bool active);

/// When no version of `m` is installed on t's kernel: move every archived file back to the path in
/// its .origin (only paths inside <install_tree>/<K>) when that place is free, then drop
/// original_module/<K>/<A>. An archived copy whose place holds the same bytes is dropped; one whose
/// place holds another module's file waits for it to go; one whose place the kernel's package has
/// filled again is dropped with a warning (never rolled back). Runs after an uninstall (`was_active`:
/// then, as dkms, it says it drops the archive) and whenever an interrupted run left an archive behind.
/// Returns the number of files restored.
int settle_originals(const Context& ctx, const Tree& tree, const std::string& m, const Target& t, bool was_active);

/// settle_originals for every module of the tree with an archive for t's kernel.
void settle_all_originals(const Context& ctx, const Tree& tree, const Target& t);

}  // namespace dkms
