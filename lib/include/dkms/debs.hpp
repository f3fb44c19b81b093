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
/// Every kernel must be built. Returns the packages written.
std::vector<std::filesystem::path> make_binary_debs(Ops& ops, Context& ctx, const ModuleId& id,
                                                    const std::vector<Target>& targets, const DebOptions& opt);

/// mkdeb: <m>-dkms_<v>_all.deb with the source at /usr/src/<m>-<v>/ and the dh_dkms maintainer
/// scripts (build and install through dkms-run, or dkms, on the user's machine).
std::filesystem::path make_source_deb(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt);

/// mkdsc: a Debian source package <m>-dkms_<v>.dsc + .tar.xz whose debian/ builds the same
/// <m>-dkms package with `dh $@ --with dkms`. Runs dpkg-source -b. Returns the .dsc.
std::filesystem::path make_source_dsc(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt);

}  // namespace dkms
