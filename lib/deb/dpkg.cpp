// SPDX-License-Identifier: GPL-2.0-or-later
// The only user of libdpkg: version parsing and comparison, native architecture.
#define LIBDPKG_VOLATILE_API 1
extern "C" {
#include <dpkg/arch.h>
#include <dpkg/dpkg-db.h>
#include <dpkg/error.h>
#include <dpkg/version.h>
}

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "dkms/deb/dpkg.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"

namespace dkms::dpkg {
namespace {

bool parse(std::string_view v, dpkg_version* out, std::string* why) {
    std::string s(v);
    dpkg_error err = DPKG_ERROR_INIT;
    int rc = parseversion(out, s.c_str(), &err);
    if (rc == 0 && err.type == DPKG_MSG_NONE) return true;
    if (why) *why = err.str ? err.str : "invalid version";
    // A warning (e.g. "version ... has bad syntax") is still a version dpkg can use,
    // but we treat it as invalid: a dkms module version must be clean.
    dpkg_error_destroy(&err);
    return false;
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// read_file (a FIFO or device is refused, never waited on), its errors saying `what`.
std::string slurp(const std::filesystem::path& file, const char* what) {
    try {
        return read_file(file);
    } catch (const SystemError& e) {
        throw SystemError(std::string(what) + file.string(), e.err());
    }
}

// os and cpu parts of an architecture name: "amd64" -> linux/amd64, "kfreebsd-i386" -> kfreebsd/i386.
std::pair<std::string, std::string> split_arch(std::string_view arch) {
    auto dash = arch.rfind('-');
    if (dash == std::string_view::npos) return {"linux", std::string(arch)};
    std::string os(arch.substr(0, dash));
    if (auto d2 = os.rfind('-'); d2 != std::string::npos) os = os.substr(d2 + 1);  // musl-linux-amd64 -> linux
    return {os, std::string(arch.substr(dash + 1))};
}

}  // namespace

bool valid_version(std::string_view v, std::string* why) {
    dpkg_version ver;
    return parse(v, &ver, why);
}

int compare_versions(std::string_view a, std::string_view b) {
    dpkg_version va, vb;
    std::string why;
    if (!parse(a, &va, &why)) throw Error(ExitCode::Error, "invalid version '" + std::string(a) + "': " + why);
    if (!parse(b, &vb, &why)) throw Error(ExitCode::Error, "invalid version '" + std::string(b) + "': " + why);
    return dpkg_version_compare(&va, &vb);
}

std::string strip_revision(std::string_view full) {
    auto dash = full.rfind('-');
    if (dash == std::string_view::npos || dash + 1 == full.size()) return std::string(full);
    return std::string(full.substr(0, dash));
}

std::optional<std::string> Paragraph::get(std::string_view name) const {
    for (const auto& [k, v] : fields)
        if (iequal(k, name)) return v;
    return std::nullopt;
}

std::string Paragraph::value(std::string_view name, std::string def) const {
    auto v = get(name);
    return v ? *v : def;
}

std::vector<Paragraph> parse_deb822(std::string_view text, const std::string& file) {
    std::vector<Paragraph> out;
    Paragraph cur;
    bool in_par = false;
    int lineno = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && line[0] == '#') continue;
        if (trim(line).empty()) {
            if (in_par) out.push_back(std::move(cur));
            cur = Paragraph{};
            in_par = false;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (!in_par || cur.fields.empty())
                throw ConfigError(ExitCode::Error, file, lineno, "continuation line outside a field");
            auto& v = cur.fields.back().second;
            std::string t = trim(line);
            if (t == ".") t.clear();
            v += v.empty() ? t : "\n" + t;
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            throw ConfigError(ExitCode::Error, file, lineno, "line is not a field: " + std::string(line));
        if (!in_par) {
            cur.line = lineno;
            in_par = true;
        }
        cur.fields.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    if (in_par) out.push_back(std::move(cur));
    return out;
}

int Control::compat_from_build_depends() const {
    std::string bd = source.value("Build-Depends") + "," + source.value("Build-Depends-Indep") + "," +
                     source.value("Build-Depends-Arch");
    auto p = bd.find("debhelper-compat");
    if (p == std::string::npos) return 0;
    auto eq = bd.find('=', p);
    if (eq == std::string::npos) return 0;
    return std::atoi(bd.c_str() + eq + 1);
}

Control read_control(const std::filesystem::path& file) {
    auto pars = parse_deb822(slurp(file, "cannot read "), file.string());
    Control c;
    if (pars.empty() || !pars[0].get("Source"))
        throw ConfigError(ExitCode::Error, file.string(), pars.empty() ? 1 : pars[0].line,
                          "first paragraph has no Source field");
    c.source = pars[0];
    for (size_t i = 1; i < pars.size(); ++i) {
        const auto& p = pars[i];
        auto name = p.get("Package");
        if (!name) throw ConfigError(ExitCode::Error, file.string(), p.line, "binary paragraph has no Package field");
        auto arch = p.get("Architecture");
        if (!arch) throw ConfigError(ExitCode::Error, file.string(), p.line, "package " + *name + " has no Architecture");
        c.packages.push_back({*name, *arch, p.value("Package-Type", "deb"), p.value("Depends"), p.line});
    }
    return c;
}

ChangelogEntry read_changelog_head(const std::filesystem::path& file) {
    std::string text = slurp(file, "cannot open file ");
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (trim(line).empty()) continue;
        // "source (version) dist1 dist2; urgency=..."
        auto open = line.find(" (");
        auto close = line.find(')', open == std::string::npos ? 0 : open);
        if (open == std::string::npos || close == std::string::npos || open == 0)
            throw ConfigError(ExitCode::Error, file.string(), lineno, "badly formatted heading line");
        ChangelogEntry e;
        e.source = line.substr(0, open);
        e.version = line.substr(open + 2, close - open - 2);
        auto semi = line.find(';', close);
        e.distribution = trim(line.substr(close + 1, semi == std::string::npos ? std::string::npos : semi - close - 1));
        std::string why;
        if (!valid_version(e.version, &why))
            throw ConfigError(ExitCode::Error, file.string(), lineno, "version '" + e.version + "' is invalid: " + why);
        return e;
    }
    throw ConfigError(ExitCode::Error, file.string(), lineno, "changelog has no entry");
}

std::string host_arch() {
    if (const char* e = std::getenv("DEB_HOST_ARCH"); e && *e) return e;
    const dpkg_arch* a = dpkg_arch_get(DPKG_ARCH_NATIVE);
    return a && a->name ? a->name : "unknown";
}

std::string host_arch_os() {
    if (const char* e = std::getenv("DEB_HOST_ARCH_OS"); e && *e) return e;
    return split_arch(host_arch()).first;
}

bool arch_matches(std::string_view field, std::string_view arch) {
    std::istringstream in{std::string(field)};
    std::string w;
    auto [os, cpu] = split_arch(arch);
    while (in >> w) {
        if (w == arch) return true;
        if (arch == "all") continue;
        if (w == "any") return true;
        if (w.size() > 4 && w.ends_with("-any") && w.substr(0, w.size() - 4) == os) return true;
        if (w.size() > 4 && w.starts_with("any-") && w.substr(4) == cpu) return true;
    }
    return false;
}

}  // namespace dkms::dpkg
