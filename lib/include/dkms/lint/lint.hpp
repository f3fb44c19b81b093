// SPDX-License-Identifier: GPL-2.0-or-later
// Lintian-style checks of a dkms.conf, the module source next to it and its Debian packaging.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkms/conf/raw_conf.hpp"

namespace dkms::lint {

/// How bad a finding is. Errors fail dh_dkms; warnings and infos are printed only.
enum class Severity { Error, Warning, Info };

/// One problem found: a tag from lint_tags(), where it is, and a sentence for humans.
struct Finding {
    std::string tag;
    Severity severity = Severity::Error;
    std::string file;       ///< as the user knows it ("debian/foo.dkms", "dkms.conf")
    int line = 0;           ///< 1-based; 0 when the finding is about the whole file
    std::string message;
};

/// A tag's fixed facts (docs/dh_dkms-checks.md documents each with its fix).
struct TagInfo {
    std::string_view tag;
    Severity severity;
    std::string_view summary;
};

/// Every tag the checks can emit.
const std::vector<TagInfo>& lint_tags();

/// What to check for one dkms.conf.
struct ConfInput {
    std::string text;                            ///< the dkms.conf content
    std::string label;                           ///< file name used in findings
    /// The version the package installs the module under (dh_dkms: from -V or the
    /// changelog), and where it came from ("-V", "debian/changelog"). Empty: not checked.
    std::string expected_version;
    std::string expected_version_origin;
    /// True when expected_version only has to be compatible with PACKAGE_VERSION
    /// (changelog upstream version "1.0+dfsg" or "1.0~rc1" matches 1.0), false when equal is required.
    bool loose_version = false;
};

/// The result of linting a dkms.conf: findings plus what was learnt from it.
struct ConfReport {
    std::vector<Finding> findings;
    DeclConf conf;                  ///< the declarative reading
    std::optional<std::string> name;      ///< PACKAGE_NAME if set by a plain assignment
    std::optional<std::string> version;   ///< PACKAGE_VERSION likewise
};

/// Check a dkms.conf's content (no file system access).
ConfReport lint_conf(const ConfInput& in);

/// Check that `dir` (usr/src/<name>-<version>/ in the package, or the directory of an
/// upstream dkms.conf) holds module source besides dkms.conf. `label` names it in findings.
/// With `name` and `version` given, sources found in a sibling "<name>-<other version>"
/// directory are reported as version-mismatch instead of missing-module-source.
std::vector<Finding> lint_source_dir(const std::filesystem::path& dir, const std::string& label,
                                     const std::string& name = {}, const std::string& version = {});

/// Checks of a source package's debian/ directory (`srcdir` holds debian/): dh_auto_build
/// building the module at package build time, ${misc:Depends}, #DEBHELPER# in user scripts.
/// `packages`: the binary packages that ship dkms modules (empty: those whose name ends in -dkms).
std::vector<Finding> lint_debian(const std::filesystem::path& srcdir, const std::vector<std::string>& packages = {});

/// What dkms-run itself would refuse in a dkms.conf (with `text` as its content, in the module
/// source directory `srcdir`): the file is evaluated (by bash when it is not plain, as `add` does),
/// validated by the runtime's code against an empty root, and its PATCH files checked as `build`
/// checks them. `text` is written to a temporary file beside the real one for that.
std::vector<Finding> lint_runtime(const std::string& text, const std::filesystem::path& srcdir,
                                  const std::string& label);
/// The same for a dkms.conf file on disk (its directory is the source directory).
std::vector<Finding> lint_runtime_file(const std::filesystem::path& conf, const std::string& label);

/// `dkms-run lint PATH`: PATH is a dkms.conf, a module source directory holding one, or a
/// source package (a directory holding debian/control). Throws dkms::Error if PATH is none of these.
std::vector<Finding> lint_path(const std::filesystem::path& path);

/// "file:line: tag: message" (":line" is left out for line 0).
std::string describe(const Finding& f);

/// "E: file:line: tag: message" (the letter is E, W or I).
std::string format_finding(const Finding& f);

/// Single letter for a severity: 'E', 'W', 'I'.
char severity_letter(Severity s);

/// True if any finding is an error.
bool has_errors(const std::vector<Finding>& fs);

}  // namespace dkms::lint
