// SPDX-License-Identifier: GPL-2.0-or-later
// Module compression chosen like dkms 3.4 (from the modules the kernel already has), and
// lookups that accept a module in either form (foo.ko or foo.ko.{gz,xz,zst}).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// The file name endings of a kernel module, plain first, then in dkms's order of preference.
const std::vector<std::string>& module_suffixes();

/// ".gz", ".xz", ".zst" or "": the compression of the modules already under `kernel_modules_dir`
/// (<install_tree>/<K>). As in dkms 3.4 the last of gz, xz, zst found wins; "" when the kernel
/// has no compressed module (for example when only its headers are installed).
std::string kernel_module_compression(const fs::path& kernel_modules_dir);

/// Compress `ko` in place with gzip/xz/zstd and the compress_*_opts of the settings. Returns the
/// compressed file, or `ko` itself (still uncompressed) when `suffix` is "" or the compressor
/// failed; the failure is reported as a warning, as dkms 3.4 falls back to the plain .ko.
fs::path compress_module(const Context& ctx, const fs::path& ko, const std::string& suffix);

/// <dir>/<name>.ko, else <dir>/<name>.ko.{gz,xz,zst}: the first that exists, or an empty path.
fs::path find_module_file(const fs::path& dir, const std::string& name);

/// "foo" for "foo.ko" / "foo.ko.xz"; "" when the name is not a module file name.
std::string module_base_name(const std::string& filename);

/// The ELF image of a module file, decompressed according to its name. Throws Error if it cannot be read.
std::string read_module_image(const fs::path& p);

}  // namespace dkms
