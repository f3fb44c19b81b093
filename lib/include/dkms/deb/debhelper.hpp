// SPDX-License-Identifier: GPL-2.0-or-later
// A port of debhelper's Dh_Lib vocabulary: package selection, pkgfile, tmpdir, autoscript, addsubstvar.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dkms/deb/dpkg.hpp"
#include "dkms/core/report.hpp"

namespace dkms::dh {

/// Tokens for an autoscript template: "MODULE_NAME" -> "foo" replaces every "#MODULE_NAME#".
using Tokens = std::map<std::string, std::string>;

/// Replace every #TOKEN# (TOKEN = [A-Z0-9_]+) of `tmpl` by its value. Strict: throws
/// dkms::Error for a placeholder without a value and for a value no placeholder uses.
/// `name` is the template's name, used in messages. Values are inserted literally.
std::string render_autoscript(const std::string& name, const std::string& tmpl, const Tokens& tokens);

/// True if `text` is a dkms.conf rather than a list naming one: some line assigns PACKAGE_NAME.
bool looks_like_dkms_conf(const std::string& text);

/// The options every dh_* tool understands (see debhelper(7)).
struct Options {
    std::vector<std::string> packages;      ///< -p / --package (may repeat)
    std::vector<std::string> no_packages;   ///< -N / --no-package
    bool arch = false;                      ///< -a / --arch
    bool indep = false;                     ///< -i / --indep
    bool remaining = false;                 ///< --remaining-packages
    std::string tmpdir;                     ///< -P / --tmpdir
    std::string name;                       ///< --name
    std::string mainpackage;                ///< --mainpackage
    bool verbose = false;                   ///< -v / DH_VERBOSE
    bool no_act = false;                    ///< --no-act / DH_NO_ACT
    bool quiet = false;                     ///< DH_QUIET / DEB_BUILD_OPTIONS=terse
};

/// Fill verbose/no_act/quiet from the environment as debhelper does (non-empty means on):
/// DH_VERBOSE sets verbose; only without it do DH_QUIET or DEB_BUILD_OPTIONS=terse set quiet
/// (so -v with DH_QUIET is both); DH_NO_ACT sets no_act.
void apply_environment(Options& o);

/// Whether dh_* messages are coloured, by debhelper's rule: the mode is DH_COLORS if set (even
/// empty), else DPKG_COLORS if set, else "never" if NO_COLOR is set (even empty), else "auto";
/// "auto" colours when stdout or stderr is a terminal, "always" always, any other value never.
bool use_color();
/// "<tool>: <level>: <msg>" as debhelper's error() and warning() print it. With colour, the tool
/// name is bold and the level bold red ("error") or bold yellow (anything else), as Term::ANSIColor
/// writes them: ESC[1m ... ESC[0m, ESC[1;31m ... ESC[0m.
std::string format_message(const std::string& tool, const std::string& level, const std::string& msg, bool color);

/// Where templates are searched: $DH_AUTOSCRIPTDIR first, then the configured autoscriptdir.
std::vector<std::filesystem::path> autoscript_search_path();

/// One run of a dh_* tool in a source tree (the directory holding debian/).
class Helper {
public:
    /// Reads debian/control and selects packages. Throws dkms::Error with debhelper's texts for
    /// an unknown -p or -N package (two lines: the package, then "unknown option ...; aborting")
    /// and for -P with more than one package selected. `tool` is e.g. "dh_dkms", `version` goes
    /// into the markers.
    Helper(std::string tool, std::string version, Options opts, Reporter& rep,
           std::filesystem::path srcdir = ".");

    /// All binary packages, in debian/control order.
    const std::vector<dpkg::BinaryPackage>& all_packages() const { return control_.packages; }
    /// The packages to act on, in debian/control order.
    const std::vector<dpkg::BinaryPackage>& dopackages() const { return dopackages_; }
    /// Warnings produced while selecting packages (the front end prints them).
    const std::vector<std::string>& selection_warnings() const { return warnings_; }
    const Options& options() const { return opts_; }
    const dpkg::Control& control() const { return control_; }
    int compat() const { return compat_; }
    std::string main_package() const;

    /// debian/<pkg>.<base>.<arch>, .<os>, debian/<pkg>.<base>, debian/<base> (main package only);
    /// with --name N the basename is N.<base>. Paths are relative to the source dir ("debian/...").
    std::optional<std::filesystem::path> pkgfile(const std::string& pkg, const std::string& base) const;
    /// "debian/<pkg>" or the -P directory.
    std::filesystem::path tmpdir(const std::string& pkg) const;

    /// Add the rendered template to debian/<pkg>.<script>.debhelper between debhelper's markers:
    /// appended for postinst/preinst, prepended for prerm/postrm. Idempotent: a block already
    /// written by this tool from the same template is replaced where it stands.
    void autoscript(const std::string& pkg, const std::string& script, const std::string& tmpl_name,
                    const Tokens& tokens);
    /// Add `dep (rel)` (or `dep` if rel is empty) to var in debian/<pkg>.substvars:
    /// set semantics, bytewise sorted, ", " joined, rewritten only when it changes.
    void addsubstvar(const std::string& pkg, const std::string& var, const std::string& dep,
                     const std::string& rel = {});
    /// install -p -D -m<mode> src dst (relative paths are relative to the source dir).
    void install_file(const std::filesystem::path& src, const std::filesystem::path& dst,
                      std::filesystem::perms mode);
    /// Record the tool in debian/<pkg>.debhelper.log where debhelper would (compat <= 9 or
    /// inside a dh override) so that --remaining-packages works.
    void write_log();

    /// debhelper's filearray: the words of a file list (blank lines and '#' comments skipped;
    /// an executable file is run (compat >= 9) and its stdout used), each glob-expanded in "."
    /// (giving "./path") and, if that matches nothing, in "debian/tmp". Throws dkms::Error
    /// 'Cannot find (any matches for) "<word>" (tried in ., debian/tmp)' for a word matching nothing.
    std::vector<std::string> filearray(const std::filesystem::path& file, const std::string& pkg);
    /// The upstream version from debian/<pkg>.changelog or debian/changelog (revision removed, epoch kept).
    std::string upstream_version(const std::string& pkg) const;

    /// Absolute (or srcdir-relative) path of a source-tree-relative path.
    std::filesystem::path src(const std::filesystem::path& rel) const { return srcdir_ / rel; }
    /// Print a verbose command line (one TAB, debhelper style) when verbose.
    void verbose_print(const std::string& line);

private:
    std::string tool_, version_;
    Options opts_;
    Reporter& rep_;
    std::filesystem::path srcdir_;
    dpkg::Control control_;
    int compat_ = 0;
    std::vector<dpkg::BinaryPackage> dopackages_;
    std::vector<std::string> warnings_;
};

}  // namespace dkms::dh
