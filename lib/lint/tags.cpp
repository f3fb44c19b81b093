// SPDX-License-Identifier: GPL-2.0-or-later
// The table of lint tags and the one-line formatter.
#include <algorithm>

#include "dkms/lint/lint.hpp"

namespace dkms::lint {

const std::vector<TagInfo>& lint_tags() {
    static const std::vector<TagInfo> tags = {
        {"conf-too-large", Severity::Error, "dkms.conf is larger than dkms-run reads (1 MiB)"},
        {"conf-has-nul-byte", Severity::Error, "dkms.conf contains a NUL byte: it is not a text file"},
        {"crlf-line-endings", Severity::Error, "dkms.conf has CRLF line endings: bash keeps the CR in values"},
        {"rejected-by-dkms-run", Severity::Error, "dkms-run's own reading of dkms.conf refuses it"},
        {"missing-package-name", Severity::Error, "PACKAGE_NAME is not set by a plain assignment"},
        {"missing-package-version", Severity::Error, "PACKAGE_VERSION is not set by a plain assignment"},
        {"unsafe-package-name", Severity::Error, "PACKAGE_NAME cannot be used safely as a path component"},
        {"unsafe-package-version", Severity::Error, "PACKAGE_VERSION cannot be used safely as a path component"},
        {"module-version-placeholder", Severity::Error, "#MODULE_VERSION# is left in PACKAGE_VERSION"},
        {"version-mismatch", Severity::Error, "PACKAGE_VERSION differs from the version the package installs"},
        {"module-name-has-extension", Severity::Error, "BUILT_MODULE_NAME or DEST_MODULE_NAME ends in .ko or .o"},
        {"bad-dest-module-location", Severity::Error, "DEST_MODULE_LOCATION is not under /kernel, /updates or /extra"},
        {"missing-dest-module-location", Severity::Error, "a module record has no DEST_MODULE_LOCATION"},
        {"duplicate-module", Severity::Error, "two module records build or install the same module"},
        {"missing-module-source", Severity::Error, "nothing but dkms.conf in the module source directory"},
        {"make-uses-uname-r", Severity::Warning, "a command uses `uname -r` instead of $kernelver"},
        {"deprecated-directive", Severity::Warning, "a directive current dkms ignores or will drop"},
        {"missing-autoinstall", Severity::Warning, "AUTOINSTALL is not yes: the module is not rebuilt for new kernels"},
        {"invalid-yes-no-value", Severity::Error,
         "AUTOINSTALL, NO_WEAK_MODULES or BUILD_DEPENDS_REBUILD is not yes or no"},
        {"dh-auto-build-builds-module", Severity::Warning, "dh_auto_* would run the module Makefile at package build time"},
        {"missing-misc-depends", Severity::Warning, "the package does not depend on ${misc:Depends}"},
        {"maintainer-script-lacks-debhelper-token", Severity::Warning, "a maintainer script drops the dkms snippet"},
        {"conf-needs-shell", Severity::Info, "parts of dkms.conf are shell code and were not checked"},
    };
    return tags;
}

char severity_letter(Severity s) {
    switch (s) {
        case Severity::Error: return 'E';
        case Severity::Warning: return 'W';
        case Severity::Info: return 'I';
    }
    return '?';
}

std::string describe(const Finding& f) {
    std::string where = f.file;
    if (f.line > 0) where += ":" + std::to_string(f.line);
    return where + ": " + f.tag + ": " + f.message;
}

std::string format_finding(const Finding& f) {
    return std::string(1, severity_letter(f.severity)) + ": " + describe(f);
}

bool has_errors(const std::vector<Finding>& fs) {
    return std::any_of(fs.begin(), fs.end(), [](const Finding& f) { return f.severity == Severity::Error; });
}

Severity severity_of(std::string_view tag) {
    for (const auto& t : lint_tags())
        if (t.tag == tag) return t.severity;
    return Severity::Error;
}

}  // namespace dkms::lint
