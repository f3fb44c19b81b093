// SPDX-License-Identifier: GPL-2.0-or-later
// Checks of the module source directory and of the source package's debian/ directory.
#include <fstream>
#include <regex>
#include <sstream>

#include "dkms/deb/dpkg.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "internal.hpp"

namespace fs = std::filesystem;

namespace dkms::lint {
namespace {

// The file's bytes, or nothing when it cannot be read (or is no regular file: never waited on).
std::optional<std::string> slurp(const fs::path& p) {
    try {
        return read_file(p);
    } catch (const Error&) {
        return std::nullopt;
    }
}

// Line (1-based) of the first line matching `re`, 0 if none.
int find_line(const std::string& text, const std::regex& re) {
    std::istringstream in(text);
    int n = 0;
    for (std::string l; std::getline(in, l);) {
        ++n;
        if (std::regex_search(l, re)) return n;
    }
    return 0;
}

// Whether a top-level Makefile builds the kernel module itself: obj-m at that level, or a recipe that
// runs Kbuild on a directory (make -C <kernel> M=... or SUBDIRS=...). A Makefile that builds only
// userspace tools (jool) or only installs (dm-writeboost) does not.
bool builds_module(const std::string& mk) {
    static const std::regex obj_m(R"(^\s*obj-m\b)"), kbuild(R"(-C\s*\S+.*\b(M|SUBDIRS)\s*=)");
    std::istringstream in(mk);
    for (std::string l; std::getline(in, l);) {
        if (auto h = l.find('#'); h != std::string::npos) l.erase(h);
        if (std::regex_search(l, obj_m) || std::regex_search(l, kbuild)) return true;
    }
    return false;
}

void check_rules(const fs::path& srcdir, std::vector<Finding>& out) {
    // dh_auto_build runs make only where one of these is (a Kbuild file alone is not run).
    fs::path makefile;
    for (const char* m : {"GNUmakefile", "makefile", "Makefile"}) {
        std::error_code ec;
        if (fs::is_regular_file(srcdir / m, ec)) {
            makefile = m;
            break;
        }
    }
    auto rules = slurp(srcdir / "debian/rules");
    if (makefile.empty() || !rules) return;
    if (std::regex_search(*rules, std::regex(R"(--buildsystem[= ]none|\s-Snone\b)"))) return;
    auto mk = slurp(srcdir / makefile);
    if (!mk || !builds_module(*mk)) return;
    auto has_override = [&](const std::string& step) {
        // The target may share its rule line with others ("override_dh_auto_build override_dh_auto_clean:").
        return find_line(*rules, std::regex("^([^:#=\\s]+\\s+)*override_dh_auto_" + step + "(-arch|-indep)?(\\s+[^:#=\\s]+)*\\s*:")) > 0;
    };
    if (has_override("build")) return;  // the package decides what its build runs
    std::vector<std::string> missing{"build"};
    if (!has_override("clean")) missing.push_back("clean");
    if (find_line(*mk, std::regex(R"(^install\s*:)")) > 0 && !has_override("install")) missing.push_back("install");
    if (missing.empty()) return;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + ("override_dh_auto_" + m);
    int line = find_line(*rules, std::regex(R"(^%\s*:)"));
    out.push_back(make("dh-auto-build-builds-module", "debian/rules", line,
                       "the source package has a top-level " + makefile.string() +
                           ", so dh_auto_* will run it against the build machine's kernel; add empty " + list +
                           " targets (the module is built on the user's machine by dkms)"));
}

}  // namespace

std::vector<Finding> lint_source_dir(const fs::path& dir, const std::string& label, const std::string& name,
                                     const std::string& version) {
    auto has_source = [](const fs::path& d) {
        std::error_code ec;
        if (fs::is_directory(d, ec))
            for (const auto& e : fs::directory_iterator(d, ec))
                if (e.path().filename() != "dkms.conf") return true;
        return false;
    };
    if (has_source(dir)) return {};
    std::error_code ec;
    if (!name.empty() && fs::is_directory(dir.parent_path(), ec))
        for (const auto& e : fs::directory_iterator(dir.parent_path(), ec)) {
            std::string other = e.path().filename().string();
            if (other.starts_with(name + "-") && other != name + "-" + version && has_source(e.path()))
                return {make("version-mismatch", label, 0,
                             "the module source is installed in " + other + " but PACKAGE_VERSION is " + version +
                                 "; install it into " + name + "-" + version + " or fix PACKAGE_VERSION")};
        }
    return {make("missing-module-source", label, 0,
                 "no module source next to dkms.conf in " + label +
                     "; install the sources there (debian/<package>.install: 'src/* " + label + "')")};
}

std::vector<Finding> lint_debian(const fs::path& srcdir, const std::vector<std::string>& packages) {
    std::vector<Finding> out;
    check_rules(srcdir, out);
    dpkg::Control control;
    try {
        control = dpkg::read_control(srcdir / "debian/control");
    } catch (const Error&) {
        return out;  // no or broken debian/control: dpkg-source will say so
    }
    const std::string main = control.packages.empty() ? "" : control.packages.front().name;
    for (const auto& p : control.packages) {
        bool wanted = packages.empty() ? p.name.ends_with("-dkms")
                                       : std::find(packages.begin(), packages.end(), p.name) != packages.end();
        if (!wanted) continue;
        if (p.depends.find("${misc:Depends}") == std::string::npos)
            out.push_back(make("missing-misc-depends", "debian/control", p.line,
                               "package " + p.name + " does not have ${misc:Depends} in Depends, so it will not "
                               "depend on the dkms runtime"));
        for (const char* script : {"postinst", "prerm"}) {
            fs::path f = fs::path("debian") / (p.name + "." + script);
            if (!fs::exists(srcdir / f) && p.name == main) f = fs::path("debian") / script;
            auto text = slurp(srcdir / f);
            if (text && text->find("#DEBHELPER#") == std::string::npos)
                out.push_back(make("maintainer-script-lacks-debhelper-token", f.string(), 0,
                                   "no #DEBHELPER# line: the module will not be built or removed by this script"));
        }
    }
    return out;
}

}  // namespace dkms::lint
