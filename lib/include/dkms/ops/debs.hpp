// SPDX-License-Identifier: GPL-2.0-or-later
// Debian packages of a module: binary module packages (mkbmdeb) and the source form (mkdeb, mkdsc).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/ops/ops.hpp"

namespace dkms {

/// Where packages go and who is named as their maintainer.
struct DebOptions {
    std::optional<std::filesystem::path> output_dir;  ///< default <dkms_tree>/<m>/<v>/deb
    /// "Name <email>"; default "$DEBFULLNAME <$DEBEMAIL>", else "$DEBEMAIL", else the local root.
    std::string maintainer;
    /// mkbmdeb: one package holding the modules of every kernel (see make_binary_debs).
    bool one_package = false;
    /// mkbmdeb: the site key the packaged modules must be signed with (a file or a "pkcs11:" URI) and its
    /// certificate (--mok-signing-key / --mok-certificate). When empty, framework.conf's mok_signing_key
    /// and mok_certificate are the site key if it sets mok_signing_key (and try_sign_modules is not
    /// "false"); else the modules are packaged as they were built.
    std::string sign_key;
    std::filesystem::path sign_cert;
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
/// With a site key (see DebOptions), each packaged module carries a valid signature by it: a module
/// already signed by that certificate is packaged as built; any other is signed again with the
/// kernel's sign-file (CONFIG_MODULE_SIG_HASH), in the package only, never in the dkms tree. A key or
/// certificate that is missing, or a kernel without module signing, is an Error: never an unsigned
/// package where a signed one was asked for.
std::vector<std::filesystem::path> make_binary_debs(Ops& ops, Context& ctx, const ModuleId& id,
                                                    const std::vector<Target>& targets, const DebOptions& opt);

/// mkbmdeb --all without a module: for the latest added version of every module in the tree, one
/// package (the one-package form) holding its modules for `kernels` (empty: every kernel it is built
/// for). A kernel the module's dkms.conf excludes (BUILD_EXCLUSIVE) is left out, with a line saying so;
/// a module version with no kernel left is skipped. Any module not built for a chosen kernel it
/// should be built for is an Error (6) naming each, before any package is written. Returns the packages.
std::vector<std::filesystem::path> make_all_binary_debs(Ops& ops, Context& ctx, const std::vector<Target>& kernels,
                                                        const DebOptions& opt);

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

/// A binary module package installed in the root that ships a module's files for one kernel.
struct ProvidingPackage {
    std::string package;                    ///< e.g. foo-modules-6.1.0-57-amd64 or foo-modules
    std::string version;                    ///< its Version from dpkg's status file ("" if not found)
    std::vector<std::filesystem::path> files;  ///< its module files for that kernel, as on disk (root included)
};

/// Which binary module package, if any, provides module `module` (a dkms PACKAGE_NAME) for kernel
/// `kver`: the packages mkbmdeb names (<pkg>-modules-<K>, <pkg>-modules; dkms 2.x's mkbmdeb used the
/// first name too) whose dpkg file list (<root>/var/lib/dpkg/info/<name>.list) names module files
/// below /lib/modules/<K>/ that exist on disk. Only when the install tree is <root>/lib/modules, where
/// dpkg puts them. Reads two or three files; never spawns a process.
std::optional<ProvidingPackage> binary_package_providing(const Settings& s, const std::string& module,
                                                         const std::string& kver);

/// "Skipping m/v for kernel K (A): the package P (V) provides its modules." and similar, for the
/// automatic paths (package postinst, autoinstall) that leave such a kernel to the package.
std::string provided_skip_message(const ModuleId& id, const Target& t, const ProvidingPackage& p);

/// Throws Error(6) when a binary module package provides module id.name for t.kver: dkms-run never
/// installs over files that dpkg owns. The message names the package and the way out.
void refuse_if_provided(const Settings& s, const ModuleId& id, const Target& t);

/// Whether `file` (a module file uninstall is about to delete) belongs to the binary module package
/// that provides module `module` for kernel `kver`; then it must stay. Returns the package name or "".
std::string package_owning_module_file(const Settings& s, const std::string& module, const std::string& kver,
                                       const std::filesystem::path& file);

/// status: for each added module version not installed on a kernel of the install tree for which a
/// binary module package provides that module, a row "m/v, K, A: provided (by package P V)" after the
/// version's other rows (or the note "Provided by package P V" on its "built" row for K); the version's
/// "added" row goes when it gets such a row. Rows are filtered by `f`. Never spawns a process.
void add_provided_rows(const Settings& s, const Tree& tree, const StatusFilter& f, std::vector<StatusEntry>& rows);

}  // namespace dkms
