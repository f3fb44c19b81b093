// SPDX-License-Identifier: GPL-2.0-or-later
// Facts about a kernel: version ordering, its config, its headers, and module metadata.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dkms/kernel/kernel.hpp"
#include "dkms/core/context.hpp"

namespace dkms {

/// dkms's VER(): every run of digits zero-padded to 3 places (longer runs kept), other characters kept.
std::string dkms_ver_key(const std::string& v);

/// Compare two versions the way dkms orders module versions and kernels (by dkms_ver_key). <0, 0, >0.
int dkms_ver_compare(const std::string& a, const std::string& b);

/// Natural ("sort -V"-like) ordering used to list kernels.
bool natural_less(const std::string& a, const std::string& b);

/// CONFIG_* values from a kernel .config or include/config/auto.conf (quotes removed).
/// With `only`, just those names are kept: a kernel's config has thousands of entries and
/// most callers want one or two of them.
using KernelConfig = std::map<std::string, std::string>;
KernelConfig read_kernel_config(const std::filesystem::path& file, const std::set<std::string>* only = nullptr);

/// The config file dkms 3.4 uses for a kernel: include/config/auto.conf, else .config; empty if neither.
std::filesystem::path kernel_config_file(const std::filesystem::path& kernel_source_dir);

/// Generated files a module build needs from the headers; the ones missing under `kernel_source_dir`.
std::vector<std::string> missing_generated_headers(const std::filesystem::path& kernel_source_dir);

/// `.modinfo` of an ELF kernel module (key=value strings in file order); throws Error if not ELF.
std::vector<std::pair<std::string, std::string>> read_modinfo(const std::filesystem::path& ko);
/// The same for a module image already in memory (e.g. decompressed); `name` is used in errors.
std::vector<std::pair<std::string, std::string>> read_modinfo_image(std::string_view img, const std::string& name);

/// First value of `key` in a modinfo list.
std::optional<std::string> modinfo_get(const std::vector<std::pair<std::string, std::string>>& mi,
                                       const std::string& key);

/// The architecture of the running machine (uname -m).
std::string machine_arch();

/// The running kernel (uname -r).
std::string running_kernel();

/// The kernel config of a kernel: --config, else include/config/auto.conf or .config of its headers
/// ("" if none).
fs::path kernel_config_path(const Paths& s, const std::string& kver);

}  // namespace dkms
