// SPDX-License-Identifier: GPL-2.0-or-later
// Everything an operation needs to know about where things are and how to behave.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/report.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// A kernel/arch pair to operate on.
struct Target {
    std::string kver;
    std::string arch;
    bool operator==(const Target&) const = default;
};

/// Settings from framework.conf, then the command line (which wins).
struct Settings {
    fs::path root = "/";                 ///< prefix for /etc/dkms, /etc/os-release, /boot
    fs::path dkms_tree;                  ///< default <compile-time>/var/lib/dkms
    fs::path source_tree;
    fs::path install_tree;
    std::optional<fs::path> kernel_source_dir;  ///< --kernelsourcedir, for every kernel
    std::optional<fs::path> conf_override;      ///< -c FILE
    std::optional<fs::path> kernel_config;      ///< --config FILE, for every kernel
    std::vector<std::string> directives;        ///< --directive NAME=value
    int jobs = 0;                        ///< -j; 0 = not given (use parallel_jobs or nproc)
    bool jobs_given = false;
    bool force = false;
    bool force_version_override = false;
    bool no_depmod = false;
    bool verbose = false;
    bool all = false;
    bool symlink_modules = false;
    std::string tmp_location = "/tmp";
    std::string parallel_jobs;           ///< framework.conf / environment
    std::string autoinstall_all_kernels;
    std::string continue_on_error = "true";
    std::string post_transaction;
    bool modprobe_on_install = false;    ///< --modprobe-on-install / framework.conf
    std::string compress_gzip_opts;      ///< words for gzip (dkms 3.4 defaults)
    std::string compress_xz_opts = "--check=crc32 --lzma2=dict=1MiB";
    std::string compress_zstd_opts = "-q --rm -T0";
    std::string build_environment;       ///< file sourced before each build; its exports reach make
    /// Set by autoinstall: MAKEFLAGS that join its jobserver ("-j --jobserver-auth=R,W");
    /// the make command then carries no -j of its own.
    std::string jobserver_makeflags;

    /// <root>/etc/dkms
    fs::path etc_dkms() const { return root / "etc/dkms"; }
    /// Headers for a kernel: --kernelsourcedir, else <install_tree>/<kver>/build.
    fs::path kernel_source_dir_for(const std::string& kver) const;
    /// Kernel config for a kernel: --config, else include/config/auto.conf or .config of its headers ("" if none).
    fs::path kernel_config_for(const std::string& kver) const;
    /// make -j value (never below 1 unless -j 0 was asked for).
    int make_jobs() const;
};

/// Read framework.conf and framework.conf.d/*.conf under <root>/etc/dkms into `s`
/// (paths are only taken from it if the command line did not set them afterwards).
void load_framework(Settings& s);

/// framework.conf, then framework.conf.d/*.conf in sorted order (only the ones that exist).
std::vector<fs::path> framework_files(const Settings& s);

/// "ID" / "ID_LIKE" of <root>/etc/os-release (falls back to usr/lib/os-release); "" if none.
std::string running_distribution(const Settings& s);

/// Debian or a derivative (os-release ID or ID_LIKE debian, or ubuntu): there dkms-run speaks Debian's
/// dialect where Debian's dkms differs from upstream (the package helper ignores AUTOINSTALL; CLEAN runs).
bool debian_family(const Settings& s);

/// Where the distribution puts dkms modules, "" meaning "use DEST_MODULE_LOCATION".
std::string distro_dest_override(const Settings& s);

/// The architecture of the running machine (uname -m).
std::string machine_arch();

/// The running kernel (uname -r).
std::string running_kernel();

/// What an operation runs with.
struct Context {
    Settings settings;
    Reporter& report;
};

}  // namespace dkms
