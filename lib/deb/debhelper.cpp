// SPDX-License-Identifier: GPL-2.0-or-later
// Dh_Lib port: package selection, pkgfile lookup, autoscript blocks, substvars, installing files.
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "config.h"
#include "dkms/deb/debhelper.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"

namespace fs = std::filesystem;

namespace dkms::dh {
namespace {

bool env_on(const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
}

// Write through a temporary file and rename, as debhelper does (with <file>.new); ours has a random
// name created with O_EXCL (mkostemp), so a link planted at <file>.new is never followed.
void write_file(const fs::path& p, const std::string& text) { write_file_atomic(p, text, 0644); }

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

int read_compat(const fs::path& srcdir, const dpkg::Control& c) {
    if (const char* e = std::getenv("DH_COMPAT"); e && *e) return std::atoi(e);
    if (std::ifstream in(srcdir / "debian/compat"); in) {
        int n = 0;
        if (in >> n) return n;
    }
    int n = c.compat_from_build_depends();
    return n ? n : 13;
}

std::string joined_archs(const std::vector<dpkg::BinaryPackage>& pkgs) {
    std::string s;
    for (const auto& p : pkgs) s += (s.empty() ? "" : ", ") + p.architecture;
    return s;
}

}  // namespace

bool looks_like_dkms_conf(const std::string& text) {
    static const std::regex re(R"((^|\n)[ \t]*(export[ \t]+)?PACKAGE_NAME=)");
    return std::regex_search(text, re);
}

void apply_environment(Options& o) {
    bool terse = false;
    std::istringstream opts(std::getenv("DEB_BUILD_OPTIONS") ? std::getenv("DEB_BUILD_OPTIONS") : "");
    for (std::string w; opts >> w;) terse = terse || w == "terse";
    if (env_on("DH_VERBOSE")) o.verbose = true;
    else if (env_on("DH_QUIET") || terse) o.quiet = true;
    if (env_on("DH_NO_ACT")) o.no_act = true;
}

bool use_color() {
    const char* mode = std::getenv("DH_COLORS");
    if (!mode) mode = std::getenv("DPKG_COLORS");
    if (!mode) mode = std::getenv("NO_COLOR") ? "never" : "auto";
    const std::string m = mode;
    return m == "always" || (m == "auto" && (isatty(1) || isatty(2)));
}

std::string format_message(const std::string& tool, const std::string& level, const std::string& msg, bool color) {
    if (!color) return tool + ": " + level + ": " + msg;
    const char* col = level == "error" ? "\033[1;31m" : "\033[1;33m";
    return "\033[1m" + tool + "\033[0m: " + col + level + "\033[0m: " + msg;
}

std::vector<fs::path> autoscript_search_path() {
    std::vector<fs::path> dirs;
    if (const char* e = std::getenv("DH_AUTOSCRIPTDIR"); e && *e) dirs.emplace_back(e);
    dirs.emplace_back(DKMS_AUTOSCRIPTDIR);
    return dirs;
}

Helper::Helper(std::string tool, std::string version, Options opts, Reporter& rep, fs::path srcdir)
    : tool_(std::move(tool)), version_(std::move(version)), opts_(std::move(opts)), rep_(rep), srcdir_(std::move(srcdir)) {
    control_ = dpkg::read_control(srcdir_ / "debian/control");
    compat_ = read_compat(srcdir_, control_);
    const std::string host = dpkg::host_arch();
    auto check_known = [&](const std::vector<std::string>& names, const char* how) {
        for (const auto& p : names) {
            bool known = std::any_of(control_.packages.begin(), control_.packages.end(),
                                     [&](const auto& b) { return b.name == p; });
            if (known) continue;
            std::string all;  // debhelper joins them with spaces
            for (const auto& b : control_.packages) all += (all.empty() ? "" : " ") + b.name;
            throw Error(ExitCode::Error, {"Requested unknown package " + p + " via " + how + ", expected one of: " + all,
                                          "unknown option or error during option parsing; aborting"});
        }
    };
    check_known(opts_.packages, "-p/--package");
    check_known(opts_.no_packages, "-N/--no-package");
    const bool explicit_sel = !opts_.packages.empty() || opts_.arch || opts_.indep;
    for (const auto& b : control_.packages) {
        const bool buildable = b.arch_all() || dpkg::arch_matches(b.architecture, host);
        bool want = !explicit_sel;
        if (std::find(opts_.packages.begin(), opts_.packages.end(), b.name) != opts_.packages.end()) want = true;
        if (opts_.arch && !b.arch_all()) want = true;
        if (opts_.indep && b.arch_all()) want = true;
        if (!want || !buildable) continue;
        if (std::find(opts_.no_packages.begin(), opts_.no_packages.end(), b.name) != opts_.no_packages.end()) continue;
        if (opts_.remaining) {
            std::ifstream log(srcdir_ / ("debian/" + b.name + ".debhelper.log"));
            bool done = false;
            for (std::string l; std::getline(log, l);) done = done || l == tool_;
            if (done) continue;
        }
        dopackages_.push_back(b);
    }
    if (!opts_.tmpdir.empty() && dopackages_.size() > 1) {
        std::string names;
        for (const auto& p : dopackages_) names += (names.empty() ? "" : ",") + p.name;
        throw Error(ExitCode::Error, "-P was specified, but multiple packages would be acted on (" + names + ").");
    }
    if (dopackages_.empty()) {
        if ((opts_.arch || opts_.indep) && opts_.packages.empty())
            warnings_.push_back("You asked that all arch in(dep) packages be built, but there are none of that type.");
        else if (!opts_.remaining)
            warnings_.push_back("No packages to build. Possible architecture mismatch: " + host +
                                ", want: " + joined_archs(control_.packages));
    }
}

std::string Helper::main_package() const {
    if (!opts_.mainpackage.empty()) return opts_.mainpackage;
    return control_.packages.empty() ? std::string() : control_.packages.front().name;
}

std::optional<fs::path> Helper::pkgfile(const std::string& pkg, const std::string& base) const {
    const std::string b = opts_.name.empty() ? base : opts_.name + "." + base;
    std::vector<std::string> cands = {pkg + "." + b + "." + dpkg::host_arch(), pkg + "." + b + "." + dpkg::host_arch_os(),
                                      pkg + "." + b};
    if (pkg == main_package()) cands.push_back(b);
    for (const auto& c : cands) {
        fs::path rel = fs::path("debian") / c;
        std::error_code ec;
        if (fs::is_regular_file(srcdir_ / rel, ec)) return rel;
    }
    return std::nullopt;
}

fs::path Helper::tmpdir(const std::string& pkg) const {
    return opts_.tmpdir.empty() ? fs::path("debian") / pkg : fs::path(opts_.tmpdir);
}

void Helper::verbose_print(const std::string& line) {
    if (opts_.verbose) rep_.out("\t" + line);
}

void Helper::autoscript(const std::string& pkg, const std::string& script, const std::string& tmpl_name,
                        const Tokens& tokens) {
    fs::path tmpl_path;
    std::string searched;
    for (const auto& d : autoscript_search_path()) {
        searched += (searched.empty() ? "" : ", ") + d.string();
        std::error_code ec;
        if (tmpl_path.empty() && fs::is_regular_file(d / tmpl_name, ec)) tmpl_path = d / tmpl_name;
    }
    if (tmpl_path.empty())
        throw Error(ExitCode::Error, "Could not find autoscript " + tmpl_name + " (search path: " + searched + ")");
    std::string body = render_autoscript(tmpl_name, read_file(tmpl_path), tokens);
    if (!body.empty() && body.back() != '\n') body += '\n';
    const std::string header = "# Automatically added by " + tool_ + "/";
    const std::string block = header + version_ + "\n" + body + "# End automatically added section\n";

    fs::path rel = fs::path("debian") / (pkg + "." + script + ".debhelper");
    std::vector<std::string> kept;
    std::ptrdiff_t at = -1;  // where an earlier block of ours stood
    std::error_code ec;
    if (fs::exists(src(rel), ec)) {
        bool skipping = false;
        for (auto& l : split_lines(read_file(src(rel)))) {
            if (!skipping && l.starts_with(header)) {
                skipping = true;
                if (at < 0) at = static_cast<std::ptrdiff_t>(kept.size());
                continue;
            }
            if (skipping) {
                skipping = l != "# End automatically added section";
                continue;
            }
            kept.push_back(l);
        }
    }
    const bool prepend = script == "prerm" || script == "postrm";
    std::string before, after;
    size_t split = at >= 0 ? static_cast<size_t>(at) : (prepend ? 0 : kept.size());
    for (size_t i = 0; i < kept.size(); ++i) (i < split ? before : after) += kept[i] + "\n";
    std::string result = before + block + after;
    verbose_print(std::string(at >= 0 ? "replace" : prepend ? "prepend" : "append") + " " + tmpl_name + " (" +
                  [&] { std::string t; for (auto& [k, v] : tokens) t += (t.empty() ? "" : ", ") + k + "=" + v; return t; }() +
                  ") to " + rel.string());
    if (opts_.no_act) return;
    write_file(src(rel), result);
}

void Helper::addsubstvar(const std::string& pkg, const std::string& var, const std::string& dep, const std::string& rel) {
    const std::string entry = rel.empty() ? dep : dep + " (" + rel + ")";
    fs::path file = src(fs::path("debian") / (pkg + ".substvars"));
    std::vector<std::string> lines;
    std::error_code ec;
    if (fs::exists(file, ec)) lines = split_lines(read_file(file));
    bool found = false, changed = false;
    for (auto& l : lines) {
        if (!l.starts_with(var + "=")) continue;
        found = true;
        std::set<std::string> items;
        std::string v = l.substr(var.size() + 1);
        for (size_t p = 0; !v.empty();) {
            auto c = v.find(", ", p);
            std::string item = v.substr(p, c == std::string::npos ? std::string::npos : c - p);
            if (!item.empty()) items.insert(item);
            if (c == std::string::npos) break;
            p = c + 2;
        }
        changed = items.insert(entry).second;
        std::string nv;
        for (const auto& i : items) nv += (nv.empty() ? "" : ", ") + i;
        l = var + "=" + nv;
    }
    if (!found) {
        lines.push_back(var + "=" + entry);
        changed = true;
    }
    if (!changed) return;
    verbose_print("mv debian/" + pkg + ".substvars.new debian/" + pkg + ".substvars");
    if (opts_.no_act) return;
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    write_file(file, text);
}

void Helper::install_file(const fs::path& from, const fs::path& to, fs::perms mode) {
    std::ostringstream m;
    m << std::oct << static_cast<unsigned>(mode);
    verbose_print("install -p -D -m" + m.str() + " " + from.string() + " " + to.string());
    if (opts_.no_act) return;
    const fs::path s = from.is_absolute() ? from : src(from);
    const fs::path d = to.is_absolute() ? to : src(to);
    std::error_code ec;
    fs::create_directories(d.parent_path(), ec);
    if (ec) throw SystemError("cannot create " + d.parent_path().string(), ec.value());
    fs::copy_file(s, d, fs::copy_options::overwrite_existing, ec);
    if (ec) throw SystemError("cannot install " + from.string() + " as " + to.string(), ec.value());
    fs::permissions(d, mode, ec);
    if (!ec) fs::last_write_time(d, fs::last_write_time(s), ec);
    if (ec) throw SystemError("cannot set mode or time of " + to.string(), ec.value());
}

std::vector<std::string> Helper::filearray(const fs::path& file, const std::string& pkg) {
    std::string text;
    struct stat st {};
    if (compat_ >= 9 && ::stat(src(file).c_str(), &st) == 0 && (st.st_mode & S_IXUSR)) {
        ProcessSpec spec;
        spec.argv = {fs::absolute(src(file)).string()};
        spec.cwd = srcdir_;
        spec.set_env = {{"DH_CONFIG_ACT_ON_PACKAGES", pkg}};
        auto r = run_process(spec);
        if (!r.ok()) throw Error(ExitCode::Error, "Error executing " + file.string() + ": exit status " + std::to_string(r.status));
        text = r.out;
    } else {
        text = read_file(src(file));
    }
    std::vector<std::string> words;
    for (auto& l : split_lines(text)) {
        auto b = l.find_first_not_of(" \t\r");
        if (b == std::string::npos || l[b] == '#') continue;
        std::istringstream in(l);
        for (std::string w; in >> w;) words.push_back(w);
    }
    std::vector<std::string> out;
    for (const auto& w : words) {
        bool found = false;
        for (const char* dir : {".", "debian/tmp"}) {
            glob_t g{};
            std::string pat = (srcdir_ / dir / w).string();
            if (::glob(pat.c_str(), 0, nullptr, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; ++i)
                    out.push_back((fs::path(dir) / fs::path(g.gl_pathv[i]).lexically_relative(srcdir_ / dir)).string());
                found = true;
            }
            globfree(&g);
            if (found) break;
        }
        if (!found) throw Error(ExitCode::Error, "Cannot find (any matches for) \"" + w + "\" (tried in ., debian/tmp)");
    }
    return out;
}

std::string Helper::upstream_version(const std::string& pkg) const {
    fs::path cl = fs::path("debian") / (pkg + ".changelog");
    std::error_code ec;
    if (!fs::is_regular_file(src(cl), ec)) cl = "debian/changelog";
    try {
        return dpkg::strip_revision(dpkg::read_changelog_head(src(cl)).version);
    } catch (const SystemError& e) {
        throw Error(ExitCode::Error, "cannot open file " + cl.string() + ": " + std::strerror(e.err()));
    }
}

void Helper::write_log() {
    if (opts_.no_act || (compat_ > 9 && !env_on("DH_INTERNAL_OVERRIDE"))) return;
    for (const auto& p : dopackages_) {
        std::ofstream log(src(fs::path("debian") / (p.name + ".debhelper.log")), std::ios::app);
        log << tool_ << "\n";
    }
}

}  // namespace dkms::dh
