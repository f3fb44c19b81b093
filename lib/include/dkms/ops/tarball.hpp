// SPDX-License-Identifier: GPL-2.0-or-later
// mktarball / ldtarball: dkms archives of built modules and their source, and loading them back.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/archive/archive.hpp"
#include "dkms/ops/ops.hpp"

namespace dkms {

/// What mktarball puts in the archive and where it goes.
struct MkTarballOptions {
    bool binaries_only = false;               ///< dkms_binaries_only/{dkms.conf,PACKAGE_NAME,PACKAGE_VERSION}
    bool source_only = false;                 ///< no built modules
    std::optional<std::string> archive;       ///< --archive: name, or dir/name (compression from the suffix)
};

/// Make a dkms archive of m/v (layout of dkms 3.x):
///   dkms_main_tree/<K>/<A>/{module,log}/...   for each target (they must be built)
///   dkms_source_tree/...                      the source (unless binaries_only)
///   dkms_binaries_only/{dkms.conf,PACKAGE_NAME,PACKAGE_VERSION}   with binaries_only
/// The default name is <m>-<v>-kernel<K>-<A>[-kernel...].dkms.tar.gz in <dkms_tree>/<m>/<v>/tarball/.
/// Member times are $SOURCE_DATE_EPOCH, else the newest input time, so the bytes are reproducible.
/// Returns the archive written.
std::filesystem::path make_tarball(Ops& ops, Context& ctx, const ModuleId& id, const std::vector<Target>& targets,
                                   const MkTarballOptions& opt);

/// What ldtarball loaded.
struct LoadedTarball {
    ModuleId id;
    bool binaries_only = false;   ///< the source dir in the tree is a stub holding only dkms.conf
};

/// Load an archive made by mktarball (dkms-run's or dkms's), or a plain source tarball holding a
/// dkms.conf. The archive is parsed and checked entirely in memory (archive::read_archive) and
/// extracted to a private directory under tmp_location; nothing in the trees is written before every
/// check passed. Then: the source goes to <source_tree>/<m>-<v>, each built kernel to
/// <dkms_tree>/<m>/<v>/<K>/<A> (checksums verified against the manifest when there is one), and the
/// module is added.
LoadedTarball load_tarball(Ops& ops, Context& ctx, const std::filesystem::path& archive_file,
                           const archive::Limits& limits = {});

}  // namespace dkms
