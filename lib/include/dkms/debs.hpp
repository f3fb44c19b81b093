// SPDX-License-Identifier: GPL-2.0-or-later
// Debian packages of a module: binary module packages (mkbmdeb) and the source form (mkdeb, mkdsc).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/ops.hpp"

namespace dkms {

/// Where packages go and who is named as their maintainer.
struct DebOptions {
    std::optional<std::filesystem::path> output_dir;  ///< default <dkms_tree>/<m>/<v>/deb
    /// "Name <email>"; default "$DEBFULLNAME <$DEBEMAIL>", else "$DEBEMAIL", else the local root.
    std::string maintainer;
    /// mkbmdeb: one package holding the modules of every kernel (see make_binary_debs).
    bool one_package = false;
};

/// The Debian package name a module name becomes: lower case, '_' -> '-'. Throws Error naming the
/// module when the result is still not a valid package name.
std::string deb_package_name(const std::string& module);

/// dpkg architecture of a kernel architecture (x86_64 -> amd64, aarch64 -> arm64, ...); the host's
/// dpkg architecture when the name is not known.
std::string deb_arch(const std::string& kernel_arch);

/// mkbmdeb: one binary package per kernel, <m>-modules-<K>_<v>_<arch>.deb, holding the built modules
/// of m/v at /lib/modules/<K>/<DEST_MODULE_LOCATION>/, Depends: linux-image-<K>, with postinst and
/// postrm running depmod for <K> (when the kernel's modules.dep exists). Installing it needs no
/// compiler, headers or dkms. Reproducible: every time is $SOURCE_DATE_EPOCH (default: the newest
/// built module's mtime), owners root:root, files in sorted order, xz with one thread.
/// With opt.one_package: a single package <m>-modules_<binary_modules_version()>_<arch>.deb
/// holding the modules of every target, Depends: linux-image-<K1> | linux-image-<K2> | ... (newest
/// first), Conflicts/Replaces the per-kernel packages of those kernels, depmod for each kernel.
/// Every kernel must be built. Returns the packages written.
std::vector<std::filesystem::path> make_binary_debs(Ops& ops, Context& ctx, const ModuleId& id,
                                                    const std::vector<Target>& targets, const DebOptions& opt);

/// The Version of the one-package form: <v>+k<newest kernel>.<number of kernels>.<hash>, where the
/// newest kernel (by dpkg's order) is written with every character other than letters, digits, '.',
/// '+' and '~' turned into '.', and <hash> is the first 8 hex digits of the SHA-256 of the sorted
/// "<kernel>/<arch>" lines. The same kernel set always gives the same version; a set with a newer
/// kernel, or more kernels and the same newest one, gives a higher version, so apt upgrades to it.
std::string binary_modules_version(const std::string& version, const std::vector<Target>& targets);

/// mkdeb: <m>-dkms_<v>_all.deb with the source at /usr/src/<m>-<v>/ and the dh_dkms maintainer
/// scripts (build and install through dkms-run, or dkms, on the user's machine).
std::filesystem::path make_source_deb(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt);

/// mkdsc: a Debian source package <m>-dkms_<v>.dsc + .tar.xz whose debian/ builds the same
/// <m>-dkms package with `dh $@ --with dkms`. Runs dpkg-source -b. Returns the .dsc.
std::filesystem::path make_source_dsc(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt);

}  // namespace dkms
