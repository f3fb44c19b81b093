// SPDX-License-Identifier: GPL-2.0-or-later
// A module's dkms.conf, evaluated for one kernel and validated as dkms 3.4 does.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/conf/raw_conf.hpp"

namespace dkms {

/// One kernel module record (index i of the module arrays).
struct ModuleRecord {
    std::string built_name;        ///< BUILT_MODULE_NAME[i] (defaulted to PACKAGE_NAME for one module)
    std::string built_location;    ///< BUILT_MODULE_LOCATION[i] with a trailing '/', or ""
    std::string dest_name;         ///< DEST_MODULE_NAME[i], default built_name
    std::string dest_location;     ///< effective location (distro override applied)
    std::string raw_dest_location; ///< DEST_MODULE_LOCATION[i] as written
    bool strip = true;
    bool excluded = false;         ///< per-module BUILD_EXCLUSIVE_*[i] does not match this kernel
};

/// The most module records a dkms.conf may have (indexes 0 to max_modules - 1 of the module arrays).
inline constexpr std::size_t max_modules = 10000;

/// dkms.conf for (module, version, kernel, arch).
struct ModuleConfig {
    std::filesystem::path path;
    RawVars raw;
    std::string package_name;
    std::string package_version;
    std::vector<ModuleRecord> modules;
    std::string make_command;      ///< after MAKE_MATCH selection and the leading-make rewrite
    std::vector<std::string> patches;   ///< PATCH[i] applicable to this kernel, in index order
    std::string pre_build, post_build, post_add, pre_install, post_install, post_remove;
    bool autoinstall = false;
    std::vector<std::string> build_depends;
    bool build_excluded = false;   ///< global BUILD_EXCLUSIVE_* does not match
    bool has_build_exclusive = false;
};

/// How strictly to read (dkms's read_conf vs read_conf_strict). Check is Strict without its
/// notices (deprecated directives, zero modules): a source directory checked before it is copied.
enum class ConfMode { Lenient, Strict, Check };

/// Paths a conf is evaluated against, for one target.
struct ConfTarget {
    std::string module;            ///< "" when adding by path (names come from the file)
    std::string version;
    Target target;
};

/// What one evaluation sees besides the settings: dkms's $force, and the jobserver the make command
/// joins (MAKEFLAGS "-j --jobserver-auth=R,W"; the command then carries no -j of its own).
struct ConfCall {
    bool force = false;
    std::string jobserver;
};

/// Evaluate `conf` (plus /etc/dkms overrides and --directive values) and validate it.
/// Validation messages are reported as "dkms.conf: Error! ..." on stderr, then
/// Error(BadConf) "Bad conf file." / "File: <conf> does not represent a valid dkms.conf file." is thrown.
/// A missing file throws Error(ConfMissing).
ModuleConfig load_module_config(const Context& ctx, const std::filesystem::path& conf, const ConfTarget& t,
                                ConfMode mode, const ConfCall& call);
/// The same with the command line's --force and no jobserver.
inline ModuleConfig load_module_config(const Context& ctx, const std::filesystem::path& conf, const ConfTarget& t,
                                       ConfMode mode) {
    return load_module_config(ctx, conf, t, mode, ConfCall{ctx.settings.force, {}});
}

/// The longest module name, version, kernel version or architecture accepted (bytes).
inline constexpr std::size_t max_name_length = 120;

/// The value checks shared with lint: is `s` usable as one path component (module name, version, kernel,
/// architecture) that is also inert in a shell command? Returns a reason when not ("contains '/'",
/// "is '..'", "is longer than 120 bytes", "contains '$', which the shell would interpret", ...).
/// The one place where identifiers are validated; check_identifier (ops.hpp) turns a reason into an Error.
std::string unsafe_name_reason(const std::string& s);

/// A name that may be anything (from the command line or a directory listing), fit for one line of
/// a message: newlines, tabs, control and non-ASCII bytes escaped (\n, \t, \xNN), cut after 64 bytes.
std::string shown_name(const std::string& s);

/// Whether BUILD_EXCLUSIVE_KERNEL_MIN/MAX admits kver (dkms VER() ordering).
bool kernel_in_range(const std::string& kver, const std::string& min, const std::string& max);

}  // namespace dkms
