// SPDX-License-Identifier: GPL-2.0-or-later
// Checks of a dkms.conf read declaratively, and `lint PATH` over a file, source dir or source package.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "dkms/deb/dpkg.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "internal.hpp"

namespace fs = std::filesystem;

namespace dkms::lint {
namespace {

std::optional<std::string> var(const DeclConf& c, const std::string& name, std::size_t idx = 0) {
    auto it = c.vars.find(name);
    if (it == c.vars.end()) return std::nullopt;
    auto jt = it->second.find(idx);
    if (jt == it->second.end()) return std::nullopt;
    return jt->second;
}

std::string at(const std::string& name, std::size_t idx) { return name + "[" + std::to_string(idx) + "]"; }

bool has_object_suffix(const std::string& n) {
    return n.ends_with(".ko") || n.ends_with(".o") || n.find(".ko.") != std::string::npos;
}

bool loose_match(std::string expected, const std::string& v) {
    if (auto colon = expected.find(':'); colon != std::string::npos && v.find(':') == std::string::npos)
        expected = expected.substr(colon + 1);
    if (expected == v) return true;
    return expected.size() > v.size() && expected.starts_with(v) && (expected[v.size()] == '+' || expected[v.size()] == '~');
}

void check_identity(const ConfInput& in, ConfReport& r) {
    // Built on first use, not when the program starts (every dkms-run command would pay for them).
    static const std::regex kSafeName(R"(^[A-Za-z0-9][A-Za-z0-9._+-]*$)");
    static const std::regex kSafeVersion(R"(^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$)");
    const auto& c = r.conf;
    const std::string shell_hint = c.plain() ? "" : " (the file has shell code, which dh_dkms does not run)";
    if (!r.name)
        r.findings.push_back(make("missing-package-name", in.label, 0, "PACKAGE_NAME is not set" + shell_hint));
    else if (!std::regex_match(*r.name, kSafeName))
        r.findings.push_back(make("unsafe-package-name", in.label, c.line_of("PACKAGE_NAME"),
                                  "PACKAGE_NAME '" + *r.name + "' must match [A-Za-z0-9][A-Za-z0-9._+-]*"));
    if (!r.version) {
        r.findings.push_back(make("missing-package-version", in.label, 0, "PACKAGE_VERSION is not set" + shell_hint));
        return;
    }
    const int vline = c.line_of("PACKAGE_VERSION");
    if (r.version->find("#MODULE_VERSION#") != std::string::npos) {
        r.findings.push_back(make("module-version-placeholder", in.label, vline,
                                  "PACKAGE_VERSION is '" + *r.version + "'; run dh_dkms -V to replace #MODULE_VERSION#"));
        return;
    }
    if (!std::regex_match(*r.version, kSafeVersion)) {
        r.findings.push_back(make("unsafe-package-version", in.label, vline,
                                  "PACKAGE_VERSION '" + *r.version + "' must match [A-Za-z0-9][A-Za-z0-9.+~:_-]*"));
        return;
    }
    if (in.expected_version.empty()) return;
    bool ok = in.loose_version ? loose_match(in.expected_version, *r.version) : in.expected_version == *r.version;
    if (!ok)
        r.findings.push_back(make("version-mismatch", in.label, vline,
                                  "PACKAGE_VERSION is " + *r.version + " but the package installs version " +
                                      in.expected_version + " (from " + in.expected_version_origin +
                                      "); use PACKAGE_VERSION=\"#MODULE_VERSION#\" with dh_dkms -V"));
}

void check_modules(const ConfInput& in, ConfReport& r) {
    const auto& c = r.conf;
    std::set<std::size_t> idx;
    for (const char* n : {"BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION"})
        if (auto it = c.vars.find(n); it != c.vars.end())
            for (const auto& [i, v] : it->second) idx.insert(i);
    std::map<std::string, std::string> built_seen, dest_seen;
    for (std::size_t i : idx) {
        auto built = var(c, "BUILT_MODULE_NAME", i);
        auto dest = var(c, "DEST_MODULE_NAME", i);
        for (const auto& [n, v] : {std::pair{"BUILT_MODULE_NAME", built}, std::pair{"DEST_MODULE_NAME", dest}})
            if (v && has_object_suffix(*v))
                r.findings.push_back(make("module-name-has-extension", in.label, c.line_of(n, i),
                                          at(n, i) + " is '" + *v + "'; give the module name without .ko or .o"));
        auto loc = var(c, "DEST_MODULE_LOCATION", i);
        int rec_line = built ? c.line_of("BUILT_MODULE_NAME", i) : 0;
        if (!loc || loc->empty())
            r.findings.push_back(make("missing-dest-module-location", in.label, loc ? c.line_of("DEST_MODULE_LOCATION", i) : rec_line,
                                      "module record #" + std::to_string(i) + " has no DEST_MODULE_LOCATION"));
        else if (!(loc->starts_with("/kernel") || loc->starts_with("/updates") || loc->starts_with("/extra")))
            r.findings.push_back(make("bad-dest-module-location", in.label, c.line_of("DEST_MODULE_LOCATION", i),
                                      at("DEST_MODULE_LOCATION", i) + " is '" + *loc +
                                          "'; it must begin with /kernel, /updates or /extra"));
        std::string bname = built ? *built : (idx.size() == 1 && r.name ? *r.name : "");
        std::string bkey = var(c, "BUILT_MODULE_LOCATION", i).value_or("") + "/" + bname;
        std::string dname = dest ? *dest : bname;
        auto dup = [&](std::map<std::string, std::string>& seen, const std::string& key, const std::string& what,
                       const std::string& shown) {
            if (shown.empty()) return;
            if (auto it = seen.find(key); it != seen.end())
                r.findings.push_back(make("duplicate-module", in.label, rec_line,
                                          "module record #" + std::to_string(i) + " has the same " + what + " '" +
                                              shown + "' as record " + it->second));
            else
                seen.emplace(key, "#" + std::to_string(i));
        };
        dup(built_seen, bkey, "built module", bname);
        dup(dest_seen, dname, "installed module name", dname);
    }
}

void check_directives(const ConfInput& in, ConfReport& r) {
    const auto& c = r.conf;
    static const std::set<std::string> deprecated = {"REMAKE_INITRD", "MODULES_CONF", "MODULES_CONF_OBSOLETES",
                                                     "MODULES_CONF_ALIAS_TYPE", "MODULES_CONF_OBSOLETE_ONLY",
                                                     "OBSOLETE_BY"};
    // The advice holds for every dkms a package may meet: Debian's 3.0.10 (bookworm), upstream 3.4,
    // dkms-run on Debian and elsewhere.
    auto advice = [](const std::string& name) -> std::string {
        if (name == "CLEAN")
            return "CLEAN is ignored by upstream dkms 3.1.8 and later; Debian's dkms 3.0 and dkms-run on Debian run it "
                   "after the build, which only matters when MAKE writes outside the build directory (every dkms "
                   "builds in a fresh copy of the source): remove it unless yours does";
        if (name == "OBSOLETE_BY")
            return "OBSOLETE_BY is deprecated by dkms 3.4 (which reads it as BUILD_EXCLUSIVE_KERNEL_MAX, new in dkms "
                   "3.0.11); keep it only while the package must work with Debian's dkms 3.0.10 (bookworm)";
        return name + " is ignored by dkms 3.0 and later and by dkms-run; remove it";
    };
    std::set<std::string> reported;
    for (const auto& a : c.assignments) {
        bool dep = deprecated.count(a.name) ||
                   (a.name == "CLEAN" && a.value != "true" && a.value != "/bin/true" && a.value != "/usr/bin/true");
        if (dep && reported.insert(a.name).second)
            r.findings.push_back(make("deprecated-directive", in.label, a.line, advice(a.name)));
    }
    for (const char* n : {"AUTOINSTALL", "NO_WEAK_MODULES", "BUILD_DEPENDS_REBUILD"}) {
        auto v = var(c, n);
        std::string low = v ? *v : "";
        for (auto& ch : low) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (!low.empty() && low != "yes" && low != "no")  // dkms-run refuses the value (any case is fine)
            r.findings.push_back(make("invalid-yes-no-value", in.label, c.line_of(n),
                                      std::string(n) + " is '" + *v + "'; use yes or no"));
    }
    auto ai = var(c, "AUTOINSTALL");
    if (!ai || ai->empty())
        r.findings.push_back(make("missing-autoinstall", in.label, 0,
                                  "AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is "
                                  "installed; add AUTOINSTALL=\"yes\""));
    // Raw text: `uname -r` anywhere outside a comment line.
    std::istringstream text(in.text);
    int n = 0;
    static const std::regex uname(R"(uname\s+(-[a-z]*r|--kernel-release))");
    for (std::string l; std::getline(text, l);) {
        ++n;
        auto first = l.find_first_not_of(" \t");
        if (first == std::string::npos || l[first] == '#') continue;
        if (std::regex_search(l, uname))
            r.findings.push_back(make("make-uses-uname-r", in.label, n,
                                      "`uname -r` is the running kernel, not the one being built for; use $kernelver "
                                      "(and $kernel_source_dir for the headers)"));
    }
    for (const auto& ns : c.needs_shell)
        r.findings.push_back(make("conf-needs-shell", in.label, ns.line, ns.what + " is not checked"));
}

std::string slurp(const fs::path& p) { return read_file(p); }

void append(std::vector<Finding>& to, std::vector<Finding> from) {
    for (auto& f : from) to.push_back(std::move(f));
}

}  // namespace

// What makes dkms-run refuse the file as a whole, or read it differently from what it looks like.
void check_text(const ConfInput& in, ConfReport& r) {
    auto line_at = [&](size_t pos) { return 1 + int(std::count(in.text.begin(), in.text.begin() + long(pos), '\n')); };
    if (in.text.size() > max_config_bytes)
        r.findings.push_back(make("conf-too-large", in.label, 0,
                                  "it is " + std::to_string(in.text.size()) + " bytes; dkms-run refuses configuration "
                                  "files over " + std::to_string(max_config_bytes / 1024) + " KiB"));
    if (auto p = in.text.find('\0'); p != std::string::npos)
        r.findings.push_back(make("conf-has-nul-byte", in.label, line_at(p),
                                  "a NUL byte: dkms-run refuses the file (bash would drop it silently)"));
    if (auto p = in.text.find('\r'); p != std::string::npos)
        r.findings.push_back(make("crlf-line-endings", in.label, line_at(p),
                                  "the line ends in CR (a CRLF file): bash keeps the CR in the values it expands "
                                  "(a MAKE with ${PACKAGE_NAME} gets 'name\\r'); convert the file with dos2unix"));
}

ConfReport lint_conf(const ConfInput& in) {
    ConfReport r;
    check_text(in, r);
    r.conf = read_declarative(in.text);
    r.name = var(r.conf, "PACKAGE_NAME");
    r.version = var(r.conf, "PACKAGE_VERSION");
    check_identity(in, r);
    check_modules(in, r);
    check_directives(in, r);
    return r;
}

std::vector<Finding> lint_path(const fs::path& path) {
    std::error_code ec;
    std::vector<Finding> out;
    auto conf_file = [&](const fs::path& file, const std::string& label, const fs::path& srcdir, const std::string& ver) {
        ConfInput in{slurp(file), label, ver, ver.empty() ? "" : "debian/changelog", true};
        append(out, lint_conf(in).findings);
        append(out, lint_source_dir(srcdir, srcdir.string()));
        if (!has_errors(out)) append(out, lint_runtime_file(file, label));
    };
    if (fs::is_regular_file(path, ec)) {
        fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        conf_file(path, path.string(), dir, "");
        return out;
    }
    if (!fs::is_directory(path, ec)) throw SystemError("cannot read " + path.string(), ENOENT);
    const bool package = fs::is_regular_file(path / "debian/control", ec);
    if (fs::is_regular_file(path / "dkms.conf", ec)) {
        conf_file(path / "dkms.conf", (path / "dkms.conf").string(), path, "");
    }
    if (package) append(out, lint_debian(path));
    if (!package && !fs::is_regular_file(path / "dkms.conf", ec))
        throw Error(ExitCode::NoDkmsConf, path.string() + " holds neither dkms.conf nor debian/control");
    return out;
}

}  // namespace dkms::lint
