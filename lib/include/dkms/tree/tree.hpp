// SPDX-License-Identifier: GPL-2.0-or-later
// The dkms tree on disk (same layout as dkms 3.x) and the state predicates read from it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// Paths and predicates over one dkms tree. Pure reads: never spawns a process.
class Tree {
public:
    explicit Tree(const Paths& s) : s_(s) {}

    fs::path root() const { return s_.dkms_tree; }
    fs::path module_dir(const std::string& m) const { return s_.dkms_tree / m; }
    fs::path version_dir(const ModuleId& id) const { return s_.dkms_tree / id.name / id.version; }
    fs::path source_link(const ModuleId& id) const { return version_dir(id) / "source"; }
    fs::path build_dir(const ModuleId& id) const { return version_dir(id) / "build"; }
    fs::path kernel_dir(const ModuleId& id, const std::string& kver) const { return version_dir(id) / kver; }
    fs::path built_dir(const ModuleId& id, const Target& t) const { return version_dir(id) / t.kver / t.arch; }
    fs::path installed_link(const std::string& m, const Target& t) const {
        return s_.dkms_tree / m / ("kernel-" + t.kver + "-" + t.arch);
    }
    /// <source_tree>/<m>-<v>
    fs::path source_dir(const ModuleId& id) const { return s_.source_tree / (id.name + "-" + id.version); }
    /// The dkms.conf to read: -c if given, else source/dkms.conf.
    fs::path conf_path(const ModuleId& id) const;

    /// source is a symlink resolving to a directory (or a real directory: binaries-only archives).
    bool is_added(const ModuleId& id) const;
    /// source link dangling, or no link while <source_tree>/<m>-<v> exists.
    bool is_broken(const ModuleId& id) const;
    /// <v>/<K>/<A>/module exists and is not empty (dkms 3.4 asks only that it exists).
    bool is_built(const ModuleId& id, const Target& t) const;
    /// kernel-<K>-<A> points at this <v>/<K>/<A>.
    bool is_installed(const ModuleId& id, const Target& t) const;
    /// The version installed for this kernel, "" if none.
    std::string installed_version(const std::string& m, const Target& t) const;

    /// Module names in the tree, sorted. Only real directories (never symlinks) whose names pass
    /// unsafe_name_reason are listed; with `garbage`, a line for each other directory is added to it.
    std::vector<std::string> modules(std::vector<std::string>* garbage = nullptr) const;
    /// Versions of a module (directories other than kernel-* links and original_module), sorted,
    /// with the same rule as modules().
    std::vector<std::string> versions(const std::string& m, std::vector<std::string>* garbage = nullptr) const;
    /// Kernel/arch pairs that have a build directory for this m/v (kernel dirs start with digit+dot),
    /// with the same rule as modules().
    std::vector<Target> built_targets(const ModuleId& id, std::vector<std::string>* garbage = nullptr) const;
    /// The first place of this m/v (and kernel/arch) where the layout has a directory but the disk has
    /// a symbolic link: <m>, <m>/<v>, <v>/<K>, <v>/<K>/<A>, its module/ and log/, original_module/<K>/<A>.
    /// "" when there is none. Writers refuse to go through such a link (it may point anywhere).
    fs::path planted_link(const ModuleId& id, const Target* t = nullptr) const;

private:
    const Paths& s_;
};

/// One file of a built instance, as recorded in the manifest.
struct ManifestFile {
    std::string name;          ///< file name in module/ (e.g. "foo.ko")
    std::string sha256;
    std::string installed_to;  ///< absolute path in the install tree, "" if not installed
};

/// dkms-run's record of a built instance: <v>/<K>/<A>/.dkms-run.yaml.
struct Manifest {
    int schema = 1;
    std::string module, version, kernel, arch;
    std::string make_command;
    std::vector<ManifestFile> files;
};

/// Read a manifest; returns false if it does not exist; throws Error if it is corrupt.
bool read_manifest(const fs::path& built_dir, Manifest& m);
/// Write a manifest atomically.
void write_manifest(const fs::path& built_dir, const Manifest& m);
/// Name of the manifest file inside a built dir.
inline constexpr const char* manifest_name = ".dkms-run.yaml";

}  // namespace dkms
