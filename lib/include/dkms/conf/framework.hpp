// SPDX-License-Identifier: GPL-2.0-or-later
// framework.conf (and framework.conf.d) and the distribution facts read from os-release.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dkms/conf/framework.hpp"
#include "dkms/core/context.hpp"
#include "dkms/sys/sandbox.hpp"

namespace dkms {

/// Read framework.conf and framework.conf.d/*.conf under <root>/etc/dkms into `s`
/// (paths are only taken from it if the command line did not set them afterwards).
void load_framework(Settings& s);

/// framework.conf, then framework.conf.d/*.conf in sorted order (only the ones that exist).
std::vector<fs::path> framework_files(const Paths& s);

/// build_confinement: the last `--directive build_confinement=...`, else framework.conf's, else Auto.
/// Never from a dkms.conf (the module's source does not choose its own confinement). Throws Error
/// naming the file and line (or the option) of a value that is not auto, on or off.
Confinement build_confinement(const Settings& s);

/// Whether <root>/etc/os-release or <root>/usr/lib/os-release exists (dkms 3.4 stops without either).
bool has_os_release(const Paths& s);

/// "ID" / "ID_LIKE" of <root>/etc/os-release (falls back to usr/lib/os-release); "" if none.
std::string running_distribution(const Paths& s);

/// Debian, Ubuntu and their derivatives (os-release ID or ID_LIKE): there, as Debian's dkms does,
/// the kernel's own modules are never moved aside (updates/dkms wins by depmod's search order).
bool debian_family(const Paths& s);

/// Where the distribution puts dkms modules, "" meaning "use DEST_MODULE_LOCATION".
std::string distro_dest_override(const Paths& s);

}  // namespace dkms
