// SPDX-License-Identifier: GPL-2.0-or-later
// Debian package metadata: versions (through libdpkg), debian/control and debian/changelog (own parsers).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dkms::dpkg {

/// True if `v` is a valid Debian version; otherwise false and `why` (if given) says why.
bool valid_version(std::string_view v, std::string* why = nullptr);

/// Compare two Debian versions as `dpkg --compare-versions` does: <0, 0 or >0.
/// Throws dkms::Error if either is not a valid version.
int compare_versions(std::string_view a, std::string_view b);

/// The version without its Debian revision (the text after the last '-'); the epoch is kept,
/// as debhelper's dh_dkms does: "1:1.0-1" -> "1:1.0", "1.0-rc1-2" -> "1.0-rc1", "1.0" -> "1.0".
std::string strip_revision(std::string_view full);

/// One deb822 paragraph: fields in file order (names as written), and the line it starts on.
struct Paragraph {
    std::vector<std::pair<std::string, std::string>> fields;
    int line = 0;
    /// Value of a field (name compared case-insensitively), or nullopt.
    std::optional<std::string> get(std::string_view name) const;
    /// Value of a field or `def`.
    std::string value(std::string_view name, std::string def = {}) const;
};

/// Parse deb822 text (debian/control syntax: '#' comments, continuation lines, blank-line
/// separated paragraphs). Continuation lines are joined with "\n" without their leading blank.
/// Throws dkms::ConfigError on a line that is neither a field nor a continuation.
std::vector<Paragraph> parse_deb822(std::string_view text, const std::string& file = "debian/control");

/// A binary package of debian/control.
struct BinaryPackage {
    std::string name;
    std::string architecture;   ///< as written: "all", "any", "amd64 arm64", "linux-any", ...
    std::string package_type;   ///< "deb" or "udeb"
    std::string depends;        ///< raw Depends field ("" if none)
    int line = 0;
    bool arch_all() const { return architecture == "all"; }
};

/// debian/control: the source paragraph and the binary packages in file order.
struct Control {
    Paragraph source;
    std::vector<BinaryPackage> packages;
    /// debhelper compat level from Build-Depends "debhelper-compat (= N)", or 0 if absent.
    int compat_from_build_depends() const;
};

/// Read and parse debian/control. Throws dkms::SystemError / dkms::ConfigError.
Control read_control(const std::filesystem::path& file);

/// The first entry of a debian/changelog.
struct ChangelogEntry {
    std::string source;
    std::string version;
    std::string distribution;
};

/// Read the first entry's header line of a changelog. Throws dkms::SystemError if the file
/// cannot be opened (message "cannot open file <path>: <strerror>") and dkms::ConfigError if
/// the first non-blank line is not a valid header with a valid version.
ChangelogEntry read_changelog_head(const std::filesystem::path& file);

/// The host architecture: $DEB_HOST_ARCH if set, else dpkg's native architecture.
std::string host_arch();

/// The host architecture's OS part ("linux" for amd64), from $DEB_HOST_ARCH_OS or derived.
std::string host_arch_os();

/// Does an Architecture field value (a list of names and wildcards such as "any",
/// "linux-any", "any-amd64") include `arch`? "all" matches only "all".
bool arch_matches(std::string_view field, std::string_view arch);

}  // namespace dkms::dpkg
