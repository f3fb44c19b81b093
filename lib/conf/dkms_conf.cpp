// SPDX-License-Identifier: GPL-2.0-or-later
// Derivation of module records and per-kernel commands from a dkms.conf, with dkms's checks.
#include "dkms/conf/framework.hpp"
#include "dkms/conf/dkms_conf.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "dkms/core/error.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/process.hpp"

namespace dkms {

namespace {

bool ere_match(const std::string& text, const std::string& pattern) {
    try {
        return std::regex_search(text, std::regex(pattern, std::regex::extended));
    } catch (const std::regex_error&) {
        return false;
    }
}

std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool ends_in_object(const std::string& n) {
    auto ends = [&](const char* suf) {
        std::string_view sv(suf);
        return n.size() >= sv.size() && n.compare(n.size() - sv.size(), sv.size(), sv) == 0;
    };
    return ends(".o") || ends(".ko");
}

// max index + 1 over the module arrays (dkms 3.4 sparse-array handling)
size_t module_count(const RawVars& raw) {
    size_t n = 0;
    for (auto name : {"BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION"}) {
        auto it = raw.find(name);
        if (it != raw.end() && !it->second.empty()) n = std::max(n, it->second.rbegin()->first + 1);
    }
    return n;
}

bool config_matches(const std::string& spec, const KernelConfig& cfg) {
    size_t i = 0;
    while (i < spec.size()) {
        while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
        size_t j = i;
        while (j < spec.size() && !std::isspace(static_cast<unsigned char>(spec[j]))) ++j;
        if (j == i) break;
        std::string word = spec.substr(i, j - i);
        i = j;
        bool neg = word[0] == '!';
        if (neg) word.erase(0, 1);
        auto it = cfg.find(word);
        bool set = it != cfg.end() && (it->second == "y" || it->second == "m");
        if (set == neg) return false;
    }
    return true;
}

// dkms's safe_source notices for deprecated directives (stderr), once per conf file, module,
// version, kernel and arch in a run: dkms reads the same conf again from its cache, silently.
void report_deprecated(const Context& ctx, const fs::path& conf, const ConfTarget& t, const RawVars& raw) {
    static std::mutex mu;  // autoinstall reads confs from several threads
    static std::set<std::string> reported;
    std::error_code ec;
    std::string key = fs::weakly_canonical(conf, ec).string() + "\n" + t.module + "\n" + t.version + "\n" +
                      t.target.kver + "\n" + t.target.arch;
    {
        std::lock_guard<std::mutex> g(mu);
        if (!reported.insert(key).second) return;
    }
    const std::string where = " (" + conf.string() + ")";
    std::string clean = raw_get(raw, "CLEAN");
    // On Debian-family systems CLEAN runs after the build, as Debian's dkms does: not deprecated there.
    if (raw.count("CLEAN") && clean != "true" && clean != "/bin/true" && clean != "/usr/bin/true" &&
        !debian_family(ctx.settings))
        ctx.report.err("Deprecated feature: CLEAN" + where);
    for (auto name : {"REMAKE_INITRD", "MODULES_CONF", "MODULES_CONF_OBSOLETES", "MODULES_CONF_ALIAS_TYPE",
                      "MODULES_CONF_OBSOLETE_ONLY"})
        if (raw.count(name)) ctx.report.err(std::string("Deprecated feature: ") + name + where);
    if (raw.count("OBSOLETE_BY"))
        ctx.report.err("Deprecated feature: OBSOLETE_BY" + where + ": use BUILD_EXCLUSIVE_KERNEL_MAX instead");
}

}  // namespace

std::string unsafe_name_reason(const std::string& s) {
    if (s.empty()) return "is empty";
    if (s == "." || s == "..") return "is '" + s + "'";
    if (s.find('/') != std::string::npos) return "contains '/'";
    for (unsigned char c : s) {
        if (c == '\n') return "contains a newline";
        if (std::isspace(c)) return "contains whitespace";
        if (c < 0x20 || c == 0x7f) return "contains a control character";
    }
    if (s[0] == '-') return "starts with '-'";
    // Each name is one directory name in paths that combine two of them (<name>-<version>,
    // kernel-<kernel>-<arch>) plus a temporary suffix, all within NAME_MAX (255).
    if (s.size() > max_name_length) return "is longer than " + std::to_string(max_name_length) + " bytes";
    // Names also end up in commands that bash runs (the make command has KERNELRELEASE=<kernel>
    // and M=<dkms_tree>/<name>/<version>/build, and MAKE lines use $kernelver): only characters
    // without a meaning to the shell are accepted.
    for (unsigned char c : s) {
        if (c >= 0x80) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", c);
            return std::string("contains the non-ASCII byte ") + hex;
        }
        if (std::strchr("$`\\\"';&|<>(){}[]*?!#", c))
            return std::string("contains '") + char(c) + "', which the shell would interpret";
    }
    return "";
}

std::string shown_name(const std::string& s) {
    std::string shown;
    for (unsigned char c : s.substr(0, 64)) {
        if (c == '\n') shown += "\\n";
        else if (c == '\t') shown += "\\t";
        else if (c < 0x20 || c >= 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            shown += hex;
        } else shown += char(c);
    }
    if (s.size() > 64) shown += "... (" + std::to_string(s.size()) + " bytes)";
    return shown;
}

bool kernel_in_range(const std::string& kver, const std::string& min, const std::string& max) {
    if (!min.empty() && dkms_ver_compare(kver, min) < 0) return false;
    if (!max.empty() && dkms_ver_compare(kver, max) > 0) return false;
    return true;
}

namespace {

// The shell variables dkms sets before it sources a dkms.conf.
ShellPresets conf_presets(const Settings& s, const ConfTarget& t, const ConfCall& call, const fs::path& ksrc,
                          const fs::path& kconfig) {
    return ShellPresets{
        {"kernelver", t.target.kver},
        {"arch", t.target.arch},
        {"kernel_source_dir", ksrc.string()},
        {"kernel_config", kconfig.string()},
        {"dkms_tree", s.dkms_tree.string()},
        {"source_tree", s.source_tree.string()},
        {"install_tree", s.install_tree.string()},
        {"tmp_location", s.tmp_location},
        {"module", t.module},
        {"module_version", t.version},
        {"running_distribution", running_distribution(s)},
        {"current_kernel", running_kernel()},
        {"current_os", "Linux"},
        {"verbose", s.verbose ? "true" : ""},
        {"force", call.force ? "true" : ""},
        {"parallel_jobs", std::to_string(s.make_jobs())},
    };
}

// dkms.conf, then the administrator's overrides in /etc/dkms, from the general to the particular.
std::vector<fs::path> conf_files(const Settings& s, const fs::path& conf, const ConfTarget& t) {
    std::vector<fs::path> files{conf};
    if (t.module.empty()) return files;
    const auto& m = t.module;
    fs::path e = s.etc_dkms();
    for (auto name : {m + ".conf", m + "-" + t.version + ".conf", m + "-" + t.version + "-" + t.target.kver + ".conf",
                      m + "-" + t.version + "-" + t.target.kver + "-" + t.target.arch + ".conf",
                      m + "--" + t.target.kver + ".conf", m + "--" + t.target.kver + "-" + t.target.arch + ".conf"})
        files.push_back(e / name);
    return files;
}

// --directive NAME=value: said, and set over what the files set.
void apply_directives(const Context& ctx, RawVars& raw) {
    for (auto& d : ctx.settings.directives) {
        auto eq = d.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = d.substr(0, eq), val = d.substr(eq + 1);
        ctx.report.out("DIRECTIVE: " + name + "=\"" + val + "\"");
        if (name.find('[') != std::string::npos) {
            ctx.report.err("export: '" + name + "': not a valid identifier");
            continue;
        }
        raw[name] = {{0, val}};
    }
}

// The kernel's .config, only the names this file asks about: BUILD_EXCLUSIVE_CONFIG words (without
// '!') and the compiler.
KernelConfig wanted_kernel_config(const RawVars& raw, const fs::path& kconfig) {
    if (kconfig.empty()) return {};
    std::set<std::string> wanted{"CONFIG_CC_IS_CLANG"};
    if (auto it = raw.find("BUILD_EXCLUSIVE_CONFIG"); it != raw.end())
        for (auto& [i, spec] : it->second) {
            std::istringstream words(spec);
            for (std::string w; words >> w;) wanted.insert(w[0] == '!' ? w.substr(1) : w);
        }
    return read_kernel_config(kconfig, &wanted);
}

// BUILD_EXCLUSIVE_*: of the whole file (no index), or of one module record (index > 0; record 0 is
// the whole file's).
struct Exclusion {
    const RawVars& raw;
    const Target& target;
    const fs::path& kconfig;
    const KernelConfig& kcfg;

    std::string value(const char* n, std::optional<size_t> idx) const {
        if (!idx) return raw_get(raw, n);
        auto it = raw.find(n);
        if (it == raw.end() || !it->second.count(*idx) || *idx == 0) return "";
        return it->second.at(*idx);
    }
    bool excluded(std::optional<size_t> idx) const {
        std::string k = value("BUILD_EXCLUSIVE_KERNEL", idx), a = value("BUILD_EXCLUSIVE_ARCH", idx),
                    cf = value("BUILD_EXCLUSIVE_CONFIG", idx), mn = value("BUILD_EXCLUSIVE_KERNEL_MIN", idx),
                    mx = value("BUILD_EXCLUSIVE_KERNEL_MAX", idx);
        if (!idx && mx.empty()) mx = raw_get(raw, "OBSOLETE_BY");
        if (!k.empty() && !ere_match(target.kver, k)) return true;
        if (!a.empty() && !ere_match(target.arch, a)) return true;
        if (!cf.empty() && !kconfig.empty() && !config_matches(cf, kcfg)) return true;
        if (!kernel_in_range(target.kver, mn, mx)) return true;
        return false;
    }
};

// The validation messages of one dkms.conf, printed together before it is refused.
struct ConfErrors {
    std::vector<std::string> lines;
    void add(std::string msg) { lines.push_back("dkms.conf: Error! " + std::move(msg)); }
    void throw_if_any(const Context& ctx, const fs::path& conf) const {
        if (lines.empty()) return;
        for (auto& e : lines) ctx.report.err(e);
        throw Error(ExitCode::BadConf,
                    {"Bad conf file.", "File: " + conf.string() + " does not represent a valid dkms.conf file."});
    }
};

// More records than max_modules: BUILT_MODULE_NAME[99999999999]=x would otherwise make billions of
// empty records. Returns the number of records to make.
size_t bounded_module_count(const RawVars& raw, ConfErrors& errors) {
    size_t n = module_count(raw);
    if (n <= max_modules) return n;
    for (auto name : {"BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION"})
        if (auto it = raw.find(name); it != raw.end() && !it->second.empty() && it->second.rbegin()->first >= max_modules)
            errors.add("'" + std::string(name) + "[" + std::to_string(it->second.rbegin()->first) + "]': at most " +
                       std::to_string(max_modules) + " modules are supported (indexes 0 to " +
                       std::to_string(max_modules - 1) + ").");
    return 0;
}

// The distribution's module directory (Debian: /updates/dkms), checked when ADDON_MODULES_DIR sets it.
std::string checked_dest_override(const Settings& s, const ConfTarget& t, ConfErrors& errors) {
    std::string dest_override = distro_dest_override(s);
    const char* addon = getenv("ADDON_MODULES_DIR");
    if (addon && *addon && (dest_override.find("..") != std::string::npos || dest_override.find('\n') != std::string::npos))
        errors.add("ADDON_MODULES_DIR '" + std::string(addon) + "' contains " +
                   (dest_override.find("..") != std::string::npos ? "'..'" : "a newline") +
                   "; set it to a directory below " + (s.install_tree / t.target.kver).string() +
                   ", such as updates/dkms.");
    return dest_override;
}

// Module record i of n, with read_conf's checks of it.
ModuleRecord module_record(const ModuleConfig& c, size_t i, size_t n, const std::string& dest_override,
                           const Exclusion& excl, ConfErrors& errors) {
    auto get = [&](const char* name) { return raw_get(c.raw, name, i); };
    ModuleRecord r;
    r.built_name = get("BUILT_MODULE_NAME");
    if (r.built_name.empty() && n == 1) r.built_name = c.package_name;
    r.built_location = get("BUILT_MODULE_LOCATION");
    if (!r.built_location.empty() && r.built_location.back() != '/') r.built_location += '/';
    r.dest_name = get("DEST_MODULE_NAME");
    if (r.dest_name.empty()) r.dest_name = r.built_name;
    r.raw_dest_location = get("DEST_MODULE_LOCATION");
    r.dest_location = dest_override.empty() ? r.raw_dest_location : dest_override;
    std::string st = get("STRIP");
    if (st.empty()) st = raw_get(c.raw, "STRIP");
    r.strip = !(st.size() && (st[0] == 'n' || st[0] == 'N'));
    r.excluded = excl.excluded(i);
    std::string rec = std::to_string(i);
    if (r.built_name.empty()) errors.add("No 'BUILT_MODULE_NAME' directive specified for record #" + rec + ".");
    else if (ends_in_object(r.built_name))
        errors.add("'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #" + rec + ".");
    if (ends_in_object(r.dest_name))  // defaulted from BUILT_MODULE_NAME, as dkms checks it
        errors.add("'DEST_MODULE_NAME' directive ends in '.o' or '.ko' in record #" + rec + ".");
    if (r.raw_dest_location.empty()) {
        errors.add("No 'DEST_MODULE_LOCATION' directive specified for record #" + rec + ".");
    } else if (r.raw_dest_location.rfind("/kernel", 0) != 0 && r.raw_dest_location.rfind("/updates", 0) != 0 &&
               r.raw_dest_location.rfind("/extra", 0) != 0) {
        errors.lines.push_back("dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not begin with");
        errors.lines.push_back("'/kernel', '/updates', or '/extra' in record #" + rec + ".");
    }
    // Names become file names: refuse anything that would escape the module directories.
    for (auto* nm : {&r.built_name, &r.dest_name})
        if (!nm->empty() && !unsafe_name_reason(*nm).empty())
            errors.add("Module name '" + *nm + "' in record #" + rec + " " + unsafe_name_reason(*nm) + ".");
    for (auto* loc : {&r.built_location, &r.raw_dest_location})
        if (loc->find("..") != std::string::npos || loc->find('\n') != std::string::npos)
            errors.add("Module location '" + *loc + "' in record #" + rec + " contains '..' or a newline.");
    if (r.built_location.rfind("/", 0) == 0)
        errors.add("'BUILT_MODULE_LOCATION' must be relative in record #" + rec + ".");
    return r;
}

// read_conf's checks of the yes/no directives and of the package's name and version.
void check_package(const ModuleConfig& c, ConfErrors& errors) {
    for (auto name : {"AUTOINSTALL", "BUILD_DEPENDS_REBUILD", "NO_WEAK_MODULES"}) {
        std::string v = lower(raw_get(c.raw, name));
        if (!v.empty() && v != "yes" && v != "no")
            errors.add(std::string("Unsupported ") + name + " value '" + raw_get(c.raw, name) + "'");
    }
    if (!c.package_name.empty() && !unsafe_name_reason(c.package_name).empty())
        errors.add("'PACKAGE_NAME' " + unsafe_name_reason(c.package_name) + ".");
    if (!c.package_version.empty() && !unsafe_name_reason(c.package_version).empty())
        errors.add("'PACKAGE_VERSION' " + unsafe_name_reason(c.package_version) + ".");
}

// read_conf_strict's checks, once read_conf's have passed (so an empty record is no duplicate).
void check_strict(const Context& ctx, const ModuleConfig& c, size_t n, ConfMode mode, ConfErrors& errors) {
    if (mode == ConfMode::Lenient) return;
    if (n == 0 && mode == ConfMode::Strict) ctx.report.err("dkms.conf: Warning! Zero modules specified.");
    std::set<std::string> seen;
    for (size_t i = 0; i < c.modules.size(); ++i)
        if (!seen.insert(c.modules[i].built_location + c.modules[i].built_name).second)
            errors.add("Duplicate module '" + c.modules[i].built_location + c.modules[i].built_name +
                       "' in 'BUILT_MODULE_NAME[" + std::to_string(i) + "]'.");
    seen.clear();
    for (size_t i = 0; i < c.modules.size(); ++i)
        if (!seen.insert(c.modules[i].dest_name).second)
            errors.add("Duplicate module '" + c.modules[i].dest_name + "' in 'DEST_MODULE_NAME[" + std::to_string(i) +
                       "]'.");
}

// MAKE / MAKE_MATCH (the last matching index wins), dkms's default make command, and its rewrite of
// a leading "make" (-j, or the jobserver; KERNELRELEASE; LLVM=1 for a clang-built kernel).
std::string make_command(const Settings& s, const ModuleConfig& c, const ConfTarget& t, const ConfCall& call,
                         const fs::path& ksrc, const KernelConfig& kcfg) {
    std::string mk = raw_get(c.raw, "MAKE");
    if (auto it = c.raw.find("MAKE_MATCH"); it != c.raw.end()) {
        for (auto& [i, pattern] : it->second) {
            std::string cmd = raw_get(c.raw, "MAKE", i);
            if (!cmd.empty() && !pattern.empty() && ere_match(t.target.kver, pattern)) mk = cmd;
        }
    }
    std::string mod = t.module.empty() ? c.package_name : t.module;
    std::string ver = t.version.empty() ? c.package_version : t.version;
    // Paths with spaces or shell characters (--dkmstree "/srv/dkms trees") stay one word each.
    if (mk.empty())
        mk = "make -C " + shell_word(ksrc.string()) + " M=" + shell_word((s.dkms_tree / mod / ver / "build").string());
    std::string jobs = s.make_jobs() == 0 ? "-j" : "-j" + std::to_string(s.make_jobs());
    if (mk == "make" || mk.rfind("make ", 0) == 0 || mk.rfind("make\t", 0) == 0)
        mk = "make " + (call.jobserver.empty() ? jobs + " " : std::string()) + "KERNELRELEASE=" + t.target.kver +
             mk.substr(4);
    if (kcfg.count("CONFIG_CC_IS_CLANG") && kcfg.at("CONFIG_CC_IS_CLANG") == "y") mk += " LLVM=1";
    return mk;
}

// PATCH[i] (with PATCH_MATCH), the scripts, and BUILD_DEPENDS.
void read_steps(ModuleConfig& c, const ConfTarget& t) {
    auto get = [&](const char* n, size_t i = 0) { return raw_get(c.raw, n, i); };
    if (auto it = c.raw.find("PATCH"); it != c.raw.end()) {
        for (auto& [i, p] : it->second) {
            if (p.empty()) continue;
            std::string m = get("PATCH_MATCH", i);
            if (m.empty() || ere_match(t.target.kver, m)) c.patches.push_back(p);
        }
    }
    c.pre_build = get("PRE_BUILD");
    c.post_build = get("POST_BUILD");
    c.post_add = get("POST_ADD");
    c.pre_install = get("PRE_INSTALL");
    c.post_install = get("POST_INSTALL");
    c.post_remove = get("POST_REMOVE");
    if (auto it = c.raw.find("BUILD_DEPENDS"); it != c.raw.end())
        for (auto& [i, d] : it->second)
            if (!d.empty()) c.build_depends.push_back(d);
}

void require_readable(const fs::path& conf) {
    if (access(conf.c_str(), R_OK) == 0) return;
    if (errno == EACCES)
        throw Error(ExitCode::ConfMissing, {"Could not read dkms.conf file.",
                                            "File: " + conf.string() + " is not readable: Permission denied."});
    throw Error(ExitCode::ConfMissing, {"Could not locate dkms.conf file.", "File: " + conf.string() + " does not exist."});
}

}  // namespace

ModuleConfig load_module_config(const Context& ctx, const fs::path& conf, const ConfTarget& t, ConfMode mode,
                                const ConfCall& call) {
    const Settings& s = ctx.settings;
    require_readable(conf);
    fs::path ksrc = s.kernel_source_dir_for(t.target.kver);
    fs::path kconfig = kernel_config_path(s, t.target.kver);
    ModuleConfig c;
    c.path = conf;
    std::vector<std::string> notes;
    c.raw = evaluate_config(conf_files(s, conf, t), conf_presets(s, t, call, ksrc, kconfig), dkms_conf_directives(),
                            &notes);
    for (auto& n : notes) ctx.report.err("Warning: " + n);
    apply_directives(ctx, c.raw);
    if (mode == ConfMode::Strict) report_deprecated(ctx, conf, t, c.raw);
    c.package_name = raw_get(c.raw, "PACKAGE_NAME");
    c.package_version = raw_get(c.raw, "PACKAGE_VERSION");

    ConfErrors errors;
    if (c.package_name.empty()) errors.add("No 'PACKAGE_NAME' directive specified.");
    if (c.package_version.empty()) errors.add("No 'PACKAGE_VERSION' directive specified.");
    KernelConfig kcfg = wanted_kernel_config(c.raw, kconfig);
    Exclusion excl{c.raw, t.target, kconfig, kcfg};
    for (auto n : {"BUILD_EXCLUSIVE_KERNEL", "BUILD_EXCLUSIVE_ARCH", "BUILD_EXCLUSIVE_CONFIG",
                   "BUILD_EXCLUSIVE_KERNEL_MIN", "BUILD_EXCLUSIVE_KERNEL_MAX"})
        if (c.raw.count(n)) c.has_build_exclusive = true;
    c.build_excluded = excl.excluded(std::nullopt);

    size_t n = bounded_module_count(c.raw, errors);
    std::string dest_override = checked_dest_override(s, t, errors);
    for (size_t i = 0; i < n; ++i) c.modules.push_back(module_record(c, i, n, dest_override, excl, errors));
    check_package(c, errors);
    c.autoinstall = lower(raw_get(c.raw, "AUTOINSTALL")) == "yes";
    errors.throw_if_any(ctx, conf);
    check_strict(ctx, c, n, mode, errors);
    errors.throw_if_any(ctx, conf);

    c.make_command = make_command(s, c, t, call, ksrc, kcfg);
    read_steps(c, t);
    return c;
}

}  // namespace dkms
