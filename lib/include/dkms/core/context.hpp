// SPDX-License-Identifier: GPL-2.0-or-later
// The vocabulary of every layer: a module version, a kernel/arch target, the settings an operation
// runs with, and the context (settings and reporter) it is handed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dkms/core/report.hpp"

namespace dkms {

namespace fs = std::filesystem;

class ProcessRunner;  // sys/process.hpp

/// A kernel/arch pair to operate on.
struct Target {
    std::string kver;
    std::string arch;
    bool operator==(const Target&) const = default;
    /// "K (A)", as dkms writes a kernel in its messages.
    std::string str() const { return kver + " (" + arch + ")"; }
};

/// A module version in the tree.
struct ModuleId {
    std::string name;
    std::string version;
    std::string str() const { return name + "/" + version; }
};

/// Where things are: the root and the trees, from framework.conf and the command line.
struct Paths {
    fs::path root = "/";                 ///< prefix for /etc/dkms, /etc/os-release, /boot
    fs::path dkms_tree;                  ///< default <compile-time>/var/lib/dkms
    fs::path source_tree;
    fs::path install_tree;
    std::optional<fs::path> kernel_source_dir;  ///< --kernelsourcedir, for every kernel
    std::optional<fs::path> conf_override;      ///< -c FILE
    std::optional<fs::path> kernel_config;      ///< --config FILE, for every kernel
    std::string tmp_location = "/tmp";

    /// <root>/etc/dkms
    fs::path etc_dkms() const { return root / "etc/dkms"; }
    /// Headers for a kernel: --kernelsourcedir, else <install_tree>/<kver>/build.
    fs::path kernel_source_dir_for(const std::string& kver) const;
};

/// How to act: framework.conf's values parsed once into their types (conf/framework), then the
/// command line's options, which win.
struct Policy {
    std::vector<std::string> directives;        ///< --directive NAME=value
    int jobs = 0;                        ///< -j; 0 = not given (use parallel_jobs or nproc)
    bool jobs_given = false;
    bool force = false;
    bool force_version_override = false;
    bool no_depmod = false;
    bool verbose = false;
    bool all = false;
    bool symlink_modules = false;
    std::string parallel_jobs;           ///< framework.conf / environment, as written (make_jobs() reads it)
    bool autoinstall_all_kernels = false;  ///< any non-empty value, as dkms reads it
    bool continue_on_error = true;       ///< autoinstall goes on after a failed kernel ("true" or "yes")
    std::string post_transaction;        ///< a shell command run after a transaction
    bool modprobe_on_install = false;    ///< --modprobe-on-install / framework.conf
    std::string compress_gzip_opts;      ///< words for gzip (dkms 3.4 defaults)
    std::string compress_xz_opts = "--check=crc32 --lzma2=dict=1MiB";
    std::string compress_zstd_opts = "-q --rm -T0";
    std::string build_environment;       ///< file sourced before each build; its exports reach make
    int lock_timeout = 300;              ///< seconds a writer waits for the tree lock (framework.conf lock_timeout)
    /// Seconds a POST_ADD, PRE_INSTALL, POST_INSTALL or POST_REMOVE script may run before it and
    /// everything it started are stopped (framework.conf script_timeout; 0: no limit, as dkms).
    int script_timeout = 1800;
    /// framework.conf's build_confinement as written ("" = not set: auto); read it with
    /// build_confinement() (conf/framework), which checks it against the file's line and lets
    /// --directive win.
    std::string build_confinement;
};

/// Settings from framework.conf, then the command line (which wins): the paths and the policy.
/// Code that needs only the paths takes a `const Paths&`.
struct Settings : Paths, Policy {
    /// make -j value (never below 1 unless -j 0 was asked for).
    int make_jobs() const;
};

/// What an operation runs with.
struct Context {
    Settings settings;
    Reporter& report;
    /// Where the programs the engine runs go (make, depmod, scripts, compressors): null is the real
    /// system (sys/process.hpp's run_process(ctx, spec)); unit tests hand in a fake.
    ProcessRunner* processes = nullptr;
};

}  // namespace dkms
