// SPDX-License-Identifier: GPL-2.0-or-later
// Whitelists and small helpers shared by the two dkms.conf readers.
#include "dkms/conf/raw_conf.hpp"

namespace dkms {

std::string raw_get(const RawVars& v, const std::string& name, std::size_t idx) {
    auto it = v.find(name);
    if (it == v.end()) return {};
    auto jt = it->second.find(idx);
    return jt == it->second.end() ? std::string() : jt->second;
}

const std::vector<std::string>& dkms_conf_directives() {
    static const std::vector<std::string> names = {
        "PACKAGE_NAME", "PACKAGE_VERSION",
        "CLEAN", "MAKE", "MAKE_MATCH", "PATCH", "PATCH_MATCH",
        "BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION", "STRIP",
        "PRE_BUILD", "POST_BUILD", "POST_ADD", "PRE_INSTALL", "POST_INSTALL", "POST_REMOVE",
        "AUTOINSTALL", "BUILD_DEPENDS", "BUILD_DEPENDS_REBUILD",
        "BUILD_EXCLUSIVE_KERNEL", "BUILD_EXCLUSIVE_KERNEL_MIN", "BUILD_EXCLUSIVE_KERNEL_MAX",
        "BUILD_EXCLUSIVE_ARCH", "BUILD_EXCLUSIVE_CONFIG",
        "OBSOLETE_BY", "NO_WEAK_MODULES",
        // Recognised only to print "Deprecated feature: ...".
        "REMAKE_INITRD", "MODULES_CONF", "MODULES_CONF_OBSOLETES", "MODULES_CONF_ALIAS_TYPE",
        "MODULES_CONF_OBSOLETE_ONLY",
    };
    return names;
}

const std::vector<std::string>& framework_conf_settings() {
    static const std::vector<std::string> names = {
        "source_tree", "dkms_tree", "install_tree", "tmp_location", "verbose", "symlink_modules",
        "autoinstall_all_kernels", "modprobe_on_install",
        "sign_file", "mok_signing_key", "mok_certificate", "try_sign_modules",
        "parallel_jobs", "compress_gzip_opts", "compress_xz_opts", "compress_zstd_opts",
        "build_environment", "post_transaction", "continue_on_error", "lock_timeout", "script_timeout", "build_confinement",
    };
    return names;
}

int DeclConf::line_of(const std::string& name, std::size_t idx) const {
    // Assignments are in file order, so the last match is the one that counts.
    // A compound `NAME=(...)` replaces the whole array: earlier elements it does not
    // re-create are gone, which is reflected in `vars`; an index absent there was never
    // (or is no longer) assigned.
    auto it = vars.find(name);
    if (it == vars.end() || !it->second.count(idx)) return 0;
    for (auto a = assignments.rbegin(); a != assignments.rend(); ++a)
        if (a->name == name && a->index == idx) return a->line;
    return 0;
}

}  // namespace dkms
