// SPDX-License-Identifier: GPL-2.0-or-later
// mkbmdeb / mkdeb / mkdsc: packages staged in a private directory and built by dpkg-deb/dpkg-source.
#include "dkms/ops/debs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "dkms/archive/archive.hpp"
#include "dkms/kernel/module_files.hpp"
#include "dkms/deb/debhelper.hpp"
#include "dkms/deb/dpkg.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/libcrypto.hpp"
#include "dkms/sys/sha256.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/ops/signing.hpp"

namespace dkms {

namespace {

// A package tree being staged: <tmp>/pkg, mode 0755 as dpkg-deb wants.
class Staging {
public:
    explicit Staging(const Settings& s) : tmp_(s.tmp_location, "dkms-run.deb.") {
        root_ = tmp_.path() / "pkg";
        if (mkdir(root_.c_str(), 0755) != 0) throw SystemError("cannot create " + root_.string(), errno);
        chmod(root_.c_str(), 0755);
    }
    const fs::path& root() const { return root_; }
    const fs::path& tmp() const { return tmp_.path(); }

    void dirs(const fs::path& rel) {
        fs::path cur = root_;
        for (auto& c : rel) {
            cur /= c;
            if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) throw SystemError("cannot create " + cur.string(), errno);
            chmod(cur.c_str(), 0755);
        }
    }
    void file(const fs::path& rel, std::string_view data, mode_t mode) {
        dirs(rel.parent_path());
        write_file_atomic(root_ / rel, data, mode);
    }

private:
    TempDir tmp_;
    fs::path root_;
};

std::int64_t epoch_or(std::int64_t fallback) {
    const char* e = getenv("SOURCE_DATE_EPOCH");
    if (!e || !*e) return fallback;
    char* end = nullptr;
    long long v = std::strtoll(e, &end, 10);
    if (*end || v < 0)
        throw Error(ExitCode::Error, {std::string("SOURCE_DATE_EPOCH='") + e + "' is not a number of seconds.",
                                      "Unset it or give e.g. SOURCE_DATE_EPOCH=$(date +%s)."});
    return v;
}

std::string md5_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    libcrypto().EVP_Digest(data.data(), data.size(), md, &len, libcrypto().EVP_md5(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string r;
    for (unsigned i = 0; i < len; ++i) r += hex[md[i] >> 4], r += hex[md[i] & 15];
    return r;
}

std::string rfc2822(std::int64_t t) {
    time_t tt = time_t(t);
    struct tm tm{};
    gmtime_r(&tt, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string maintainer_of(const DebOptions& o) {
    if (!o.maintainer.empty()) return o.maintainer;
    const char* name = getenv("DEBFULLNAME");
    const char* mail = getenv("DEBEMAIL");
    if (mail && *mail) {
        std::string m = mail;
        if (m.find('<') != std::string::npos) return m;
        return (name && *name ? std::string(name) : std::string("dkms-run")) + " <" + m + ">";
    }
    return "Local dkms-run build <root@localhost>";
}

void check_version(const ModuleId& id) {
    std::string why;
    if (!dpkg::valid_version(id.version, &why))
        throw Error(ExitCode::Error, {"Module version '" + id.version + "' of " + id.name + " is not a valid Debian version: " + why + ".",
                                      "Set PACKAGE_VERSION in its dkms.conf to a Debian version (digits first, no '_')."});
}

// Every file and directory below root (and root) gets time t, so that the package bytes do not depend
// on when it was staged; dpkg-deb clamps to SOURCE_DATE_EPOCH as well.
void set_times(const fs::path& root, std::int64_t t) {
    struct timespec ts[2] = {{time_t(t), 0}, {time_t(t), 0}};
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
        utimensat(AT_FDCWD, it->path().c_str(), ts, AT_SYMLINK_NOFOLLOW);
    utimensat(AT_FDCWD, root.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// DEBIAN/md5sums over every regular file outside DEBIAN, sorted; returns Installed-Size in KiB.
std::uint64_t write_md5sums(Staging& st) {
    std::vector<std::string> files;
    std::uint64_t kib = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(st.root(), ec), end; !ec && it != end; it.increment(ec)) {
        auto rel = it->path().lexically_relative(st.root()).string();
        if (rel == "DEBIAN") {
            it.disable_recursion_pending();
            continue;
        }
        struct stat s{};
        if (lstat(it->path().c_str(), &s) != 0) continue;
        kib += S_ISREG(s.st_mode) ? (std::uint64_t(s.st_size) + 1023) / 1024 : 1;
        if (S_ISREG(s.st_mode)) files.push_back(rel);
    }
    std::sort(files.begin(), files.end());
    std::string sums;
    for (auto& f : files) sums += md5_hex(read_file(st.root() / f)) + "  " + f + "\n";
    st.file("DEBIAN/md5sums", sums, 0644);
    return kib;
}

fs::path output_dir(const Tree& tree, const ModuleId& id, const DebOptions& opt) {
    fs::path d = opt.output_dir ? fs::absolute(*opt.output_dir) : tree.version_dir(id) / "deb";
    std::error_code ec;
    fs::create_directories(d, ec);
    if (!dir_exists(d) || access(d.c_str(), W_OK) != 0) throw Error(ExitCode::NoDkmsConf, "Missing write permissions for " + d.string() + ".");
    return d;
}

fs::path dpkg_deb(Context& ctx, Staging& st, std::int64_t t, const fs::path& out) {
    set_times(st.root(), t);
    // dpkg-deb writes the package by name: into a private directory (mkdtemp) beside the result, never to
    // a predictable name in what may be a shared directory (--output-dir /tmp), then renamed into place.
    TempDir private_dir(out.parent_path(), "." + out.filename().string() + ".tmp-");
    fs::path tmp_out = private_dir.path() / out.filename();
    ProcessSpec p;
    p.argv = {"dpkg-deb", "--root-owner-group", "-Zxz", "--threads-max=1", "--build", st.root().string(), tmp_out.string()};
    p.set_env = {{"SOURCE_DATE_EPOCH", std::to_string(t)}};
    p.out = ProcessSpec::Out::Capture;
    p.err_to_out = true;
    auto r = run_process(ctx, p);
    if (!r.ok()) {
        unlink(tmp_out.c_str());
        std::vector<std::string> lines{"dpkg-deb could not build " + out.filename().string() + " (exit " + std::to_string(r.status) + "):"};
        lines.push_back(r.out);
        throw Error(ExitCode::InstallFailed, lines);
    }
    if (rename(tmp_out.c_str(), out.c_str()) != 0) {
        int e = errno;
        unlink(tmp_out.c_str());
        throw SystemError("cannot create " + out.string(), e);
    }
    ctx.report.out("Wrote " + out.string());
    return out;
}

// usr/share/doc/<pkg>/{copyright,changelog[.Debian].gz}
void doc_files(Staging& st, const std::string& pkg, const ModuleId& id, const std::string& license,
               const std::string& maint, const std::string& entry, std::int64_t t, std::string pkg_version = {}) {
    if (pkg_version.empty()) pkg_version = id.version;
    fs::path doc = fs::path("usr/share/doc") / pkg;
    std::string copyright =
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: " + id.name + "\n"
        "Comment: Made by dkms-run from the DKMS module " + id.name + " " + id.version + ".\n"
        " The license below is the one the module declares (MODULE_LICENSE); the module's\n"
        " source, in /usr/src/" + id.name + "-" + id.version + " on the build host, has the exact terms.\n"
        "\n"
        "Files: *\n"
        "Copyright: the authors of " + id.name + "\n"
        "License: " + license + "\n";
    if (license.rfind("GPL", 0) == 0)
        copyright += " On Debian systems, the complete text of the GNU General Public License version 2\n"
                     " can be found in /usr/share/common-licenses/GPL-2.\n";
    else
        copyright += " See the module source.\n";
    st.file(doc / "copyright", copyright, 0644);
    std::string log = pkg + " (" + pkg_version + ") unstable; urgency=medium\n\n  * " + entry + "\n\n -- " + maint + "  " +
                      rfc2822(t) + "\n";
    bool native = pkg_version.find('-') == std::string::npos;
    st.file(doc / (native ? "changelog.gz" : "changelog.Debian.gz"), archive::compress(log, archive::Compression::Gzip), 0644);
}

std::string depmod_script(const std::string& when, const std::string& kver) {
    return "#!/bin/sh\n"
           "# Made by dkms-run: refresh the module index of Linux " + kver + ".\n"
           "set -e\n"
           "case \"$1\" in\n"
           "\t" + when + ")\n"
           "\t\tif [ -e /lib/modules/" + kver + "/modules.dep ] && command -v depmod >/dev/null 2>&1; then\n"
           "\t\t\tif [ -e /boot/System.map-" + kver + " ]; then\n"
           "\t\t\t\tdepmod -a -F /boot/System.map-" + kver + " " + kver + "\n"
           "\t\t\telse\n"
           "\t\t\t\tdepmod -a " + kver + "\n"
           "\t\t\tfi\n"
           "\t\tfi\n"
           "\t\t;;\n"
           "esac\n"
           "exit 0\n";
}

// The same for several kernels (the one-package form): each kernel whose modules.dep exists.
std::string depmod_script(const std::string& when, const std::vector<Target>& targets) {
    std::string list;
    for (auto& t : targets) list += " " + shell_quote(t.kver);
    return "#!/bin/sh\n"
           "# Made by dkms-run: refresh the module index of each Linux kernel this package has modules for.\n"
           "set -e\n"
           "case \"$1\" in\n"
           "\t" + when + ")\n"
           "\t\tcommand -v depmod >/dev/null 2>&1 || exit 0\n"
           "\t\tfor k in" + list + "; do\n"
           "\t\t\t[ -e \"/lib/modules/$k/modules.dep\" ] || continue\n"
           "\t\t\tif [ -e \"/boot/System.map-$k\" ]; then\n"
           "\t\t\t\tdepmod -a -F \"/boot/System.map-$k\" \"$k\"\n"
           "\t\t\telse\n"
           "\t\t\t\tdepmod -a \"$k\"\n"
           "\t\t\tfi\n"
           "\t\tdone\n"
           "\t\t;;\n"
           "esac\n"
           "exit 0\n";
}

std::string kernel_words(const std::vector<Target>& targets) {
    std::string list;
    for (auto& t : targets) list += " " + shell_quote(t.kver);
    return list;
}

// preinst: where dkms-run installed its own build of the module (from a <m>-dkms package) for one of
// these kernels, that build is uninstalled (it stays built) before dpkg unpacks this package's files
// over the same paths. Without dkms-run it does nothing.
std::string handover_preinst(const ModuleId& id, const std::vector<Target>& targets) {
    return "#!/bin/sh\n"
           "# Made by dkms-run: a build of " + id.name + " that dkms-run installed (from a *-dkms package) for these\n"
           "# kernels is uninstalled first (it stays built), so that this package's files take its place.\n"
           "set -e\n"
           "case \"$1\" in\n"
           "\tinstall|upgrade)\n"
           "\t\tcommand -v dkms-run >/dev/null 2>&1 || exit 0\n"
           "\t\tfor k in" + kernel_words(targets) + "; do\n"
           "\t\t\tdkms-run status -m " + shell_quote(id.name) + " -k \"$k\" 2>/dev/null |\n"
           "\t\t\twhile IFS=', :' read -r mv kv a state rest; do\n"
           "\t\t\t\tif [ \"$state\" = installed ]; then dkms-run uninstall \"$mv\" -k \"$kv/$a\" || true; fi\n"
           "\t\t\tdone\n"
           "\t\tdone\n"
           "\t\t;;\n"
           "esac\n"
           "exit 0\n";
}

// postrm: the depmod script, then, on remove, dkms-run's autoinstall for each of these kernels that is
// installed, when dkms-run knows the module (a <m>-dkms package is installed too): it takes over again.
std::string takeback_postrm(const std::string& depmod, const ModuleId& id, const std::vector<Target>& targets) {
    std::string head = depmod.substr(0, depmod.rfind("exit 0\n"));
    return head +
           "# Made by dkms-run: with the module's *-dkms package installed too, dkms-run installs its own build.\n"
           "case \"$1\" in\n"
           "\tremove)\n"
           "\t\tcommand -v dkms-run >/dev/null 2>&1 || exit 0\n"
           "\t\t[ -n \"$(dkms-run status -m " + shell_quote(id.name) + " 2>/dev/null)\" ] || exit 0\n"
           "\t\tfor k in" + kernel_words(targets) + "; do\n"
           "\t\t\t[ -e \"/lib/modules/$k/modules.dep\" ] || continue\n"
           "\t\t\tdkms-run autoinstall -k \"$k\" || true\n"
           "\t\tdone\n"
           "\t\t;;\n"
           "esac\n"
           "exit 0\n";
}

// A kernel release as a piece of a Debian version: letters, digits, '.', '+' and '~' kept, the
// rest ('-', '_') turned into '.'. 6.1.0-57-amd64 -> 6.1.0.57.amd64.
std::string kernel_as_version(const std::string& kver) {
    std::string r;
    for (char c : kver) r += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '~') ? c : '.';
    return r;
}

// a > b in the order dpkg gives the versions made of them (dkms's order if dpkg cannot parse them).
bool kernel_newer(const std::string& a, const std::string& b) {
    try {
        return dpkg::compare_versions(kernel_as_version(a), kernel_as_version(b)) > 0;
    } catch (const Error&) {
        return dkms_ver_compare(a, b) > 0;
    }
}

// Changelog text: words wrapped at 78 columns after the "  * " of the entry.
std::string wrap_entry(const std::string& text) {
    std::string out, line;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        if (!line.empty() && 4 + line.size() + 1 + w.size() > 78) {
            out += line + "\n    ";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + w;
    }
    return out + line;
}

std::string license_name(std::string l) {
    if (l == "GPL" || l == "GPL v2" || l == "Dual BSD/GPL" || l == "Dual MIT/GPL") return "GPL-2";
    return l;
}

// The site key mkbmdeb signs with for one kernel (see DebOptions), with that kernel's sign-file and hash.
struct SiteKey {
    std::string key;
    fs::path cert, sign_file;
    std::string hash;
};

[[noreturn]] void missing_key_part(const std::string& what, const std::string& path) {
    throw Error(ExitCode::Error, {"The " + what + " " + path + " does not exist.",
                                  "mkbmdeb signs with the site key and never makes one: give --mok-signing-key and "
                                  "--mok-certificate, or set mok_signing_key and mok_certificate in framework.conf."});
}

std::optional<SiteKey> site_key(const Context& ctx, const Target& t, const DebOptions& opt) {
    const Settings& s = ctx.settings;
    SigningSettings ss = read_signing_settings(s, t);
    SiteKey k;
    if (!opt.sign_key.empty()) {
        k.key = opt.sign_key;
        k.cert = opt.sign_cert;
    } else if (!ss.mok_signing_key.empty() && ss.try_sign_modules != "false") {
        MokPaths m = mok_paths(s, ss);
        k.key = m.key;
        k.cert = m.cert;
    } else {
        return std::nullopt;
    }
    if (k.key.rfind("pkcs11:", 0) != 0 && !path_exists(k.key)) missing_key_part("signing key", k.key);
    if (k.cert.empty() || !path_exists(k.cert)) missing_key_part("certificate", k.cert.string());
    const std::set<std::string> wanted{"CONFIG_MODULE_SIG_HASH"};
    fs::path kconfig = kernel_config_path(s, t.kver);
    if (!kconfig.empty() && path_exists(kconfig)) {
        KernelConfig kc = read_kernel_config(kconfig, &wanted);
        if (auto h = kc.find("CONFIG_MODULE_SIG_HASH"); h != kc.end()) k.hash = h->second;
    }
    if (k.hash.empty())
        throw Error(ExitCode::Error,
                    {"No CONFIG_MODULE_SIG_HASH for Linux " + t.kver + " (kernel config: " +
                         (kconfig.empty() ? (s.kernel_source_dir_for(t.kver) / ".config").string() : kconfig.string()) +
                         "): its modules cannot be signed.",
                     "mkbmdeb signs with the kernel's own hash: install that kernel's headers on the build host."});
    k.sign_file = find_sign_file(s, t, ss);
    if (!fs::is_regular_file(k.sign_file) || access(k.sign_file.c_str(), X_OK) != 0)
        throw Error(ExitCode::Error, {"The kernel's sign-file " + k.sign_file.string() + " is not there.",
                                      "Install the kernel's headers (on Debian, linux-kbuild-<version> has "
                                      "scripts/sign-file), or set sign_file in framework.conf."});
    return k;
}

// The bytes of built module `src` as they go into the package: signed by the site key. A module
// that already carries a valid signature by it is taken as built; any other signature is replaced.
std::string signed_module(const Context& ctx, const SiteKey& k, const fs::path& src, const Target& t,
                          const fs::path& tmpdir) {
    const std::string image = read_module_image(src);
    const std::string ko_name = module_base_name(src.filename().string()) + ".ko";
    if (verify_appended_signature(image, k.cert).empty()) {
        ctx.report.out(ko_name + " for Linux " + t.kver + " is signed with " + k.cert.string() + ".");
        return read_file(src);
    }
    auto sig = find_appended_signature(image);
    fs::path dir = tmpdir / ("sign-" + t.kver);
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::path ko = dir / ko_name;
    write_file_atomic(ko, sig ? std::string(sig->content) : image, 0644);
    ctx.report.out("Signing " + ko_name + " for Linux " + t.kver + " with " + shown_key(k.key) + ".");
    ProcessSpec p;
    p.argv = {k.sign_file.string(), k.hash, k.key, k.cert.string(), ko.string()};
    p.out = ProcessSpec::Out::Capture;
    p.err_to_out = true;
    ProcessResult r = run_process(ctx, p);
    std::string why = r.ok() ? verify_appended_signature(read_file(ko), k.cert)
                             : "sign-file exited with " + std::to_string(r.status);
    if (!why.empty())
        throw Error(ExitCode::Error, {"Could not sign " + ko_name + " for Linux " + t.kver + ": " + why + ".",
                                      "Sign command: " + k.sign_file.string() + " " + k.hash + " " + shown_key(k.key) +
                                          " " + k.cert.string() + (r.out.empty() ? "" : "; it said: " + r.out)});
    std::string suffix = src.extension() == ".ko" ? "" : src.extension().string();
    fs::path out = suffix.empty() ? ko : compress_module(ctx, ko, suffix);
    if (out.filename() != src.filename())
        throw Error(ExitCode::Error, "Could not compress the signed " + ko_name + " for Linux " + t.kver + " again (" +
                                         src.filename().string() + ").");
    return read_file(out);
}

// The built modules of m/v for t, staged at lib/modules/<K>/<DEST_MODULE_LOCATION>/<name>.ko[.xz|...],
// signed by the site key when there is one. Updates `newest` (module mtimes) and `license` (the first
// module's MODULE_LICENSE).
void stage_modules(Context& ctx, const Tree& tree, const ModuleId& id, const Target& t, Staging& st,
                   std::int64_t& newest, std::string& license, const DebOptions& opt) {
    std::optional<SiteKey> key = site_key(ctx, t, opt);
    ModuleConfig c = load_module_config(ctx, tree.conf_path(id), ConfTarget{id.name, id.version, t}, ConfMode::Lenient);
    fs::path mdir = tree.built_dir(id, t) / "module";
    int n = 0;
    for (auto& m : c.modules) {
        if (m.excluded) continue;
        fs::path src;
        for (auto suf : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
            if (path_exists(mdir / (m.dest_name + suf))) src = mdir / (m.dest_name + suf);
        if (src.empty()) throw Error(ExitCode::InstallFailed, "Missing module " + m.dest_name + " in " + mdir.string());
        struct stat s{};
        if (stat(src.c_str(), &s) == 0) newest = std::max<std::int64_t>(newest, s.st_mtime);
        if (src.extension() == ".ko") {
            try {
                if (auto l = modinfo_get(read_modinfo(src), "license"); l && license == "unknown") license = *l;
            } catch (const Error&) {
            }
        }
        fs::path rel = fs::path("lib/modules") / t.kver / fs::path(m.dest_location).relative_path() / src.filename();
        st.file(rel, key ? signed_module(ctx, *key, src, t, st.tmp()) : read_file(src), 0644);
        ++n;
    }
    if (n == 0) throw Error(ExitCode::InstallFailed, "No module of " + id.str() + " applies to kernel " + t.kver + ".");
}

// The one-package form of mkbmdeb (see make_binary_debs).
fs::path make_one_binary_deb(Context& ctx, const Tree& tree, const ModuleId& id, std::vector<Target> targets,
                             const fs::path& outdir, const std::string& maint, const DebOptions& opt) {
    std::vector<Target> uniq;
    for (auto& t : targets)
        if (std::find(uniq.begin(), uniq.end(), t) == uniq.end()) uniq.push_back(t);
    targets = uniq;
    std::stable_sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) { return kernel_newer(a.kver, b.kver); });
    const std::string arch = deb_arch(targets.front().arch);
    for (auto& t : targets)
        if (deb_arch(t.arch) != arch)
            throw Error(ExitCode::Error, {"The kernels are for different architectures (" + targets.front().arch + ", " + t.arch + ").",
                                          "A package has one architecture: make one package per architecture."});
    const std::string base = deb_package_name(id.name);
    const std::string pkg = base + "-modules";
    const std::string version = binary_modules_version(id.version, targets);
    Staging st(ctx.settings);
    std::int64_t newest = 0;
    std::string license = "unknown";
    for (auto& t : targets) stage_modules(ctx, tree, id, t, st, newest, license, opt);
    license = license_name(license);
    std::int64_t when = epoch_or(newest);
    std::string kernels, depends, conflicts, listed;
    for (auto& t : targets) {
        kernels += (kernels.empty() ? "" : ", ") + t.kver;
        depends += (depends.empty() ? "" : " | ") + ("linux-image-" + t.kver);
        conflicts += (conflicts.empty() ? "" : ", ") + (base + "-modules-" + t.kver);
        listed += "  " + t.kver + " (" + t.arch + ")\n";
    }
    const std::string n = std::to_string(targets.size());
    doc_files(st, pkg, id, license, maint,
              wrap_entry("Built by dkms-run from " + id.name + " " + id.version + " for Linux " + kernels + "."), when, version);
    std::uint64_t kib = write_md5sums(st);
    std::string control =
        "Package: " + pkg + "\n"
        "Source: " + base + "-dkms\n"
        "Version: " + version + "\n"
        "Architecture: " + arch + "\n"
        "Maintainer: " + maint + "\n"
        "Installed-Size: " + std::to_string(kib) + "\n"
        "Depends: " + depends + "\n"
        "Conflicts: " + conflicts + "\n"
        "Replaces: " + conflicts + "\n"
        "Section: kernel\n"
        "Priority: optional\n"
        "Description: " + id.name + " " + id.version + " kernel modules for " + n + (targets.size() == 1 ? " Linux kernel" : " Linux kernels") + "\n"
        " Kernel modules built by dkms-run from the DKMS source " + id.name + " " + id.version + "\n"
        " for these kernels:\n" + listed +
        " .\n"
        " They are installed below /lib/modules/<kernel> and need no compiler,\n"
        " kernel headers or DKMS on the machine that installs them. One of these\n"
        " kernel images must be installed; the modules of the others are unpacked\n"
        " as well and used once that kernel is installed.\n";
    st.file("DEBIAN/control", control, 0644);
    st.file("DEBIAN/preinst", handover_preinst(id, targets), 0755);
    st.file("DEBIAN/postinst", depmod_script("configure", targets), 0755);
    const std::string depmod = depmod_script("remove|purge|abort-install|abort-upgrade", targets);
    st.file("DEBIAN/postrm", takeback_postrm(depmod, id, targets), 0755);
    ctx.report.out("Making binary module package " + pkg + " " + version + " (" + arch + ") for Linux " + kernels + "...");
    return dpkg_deb(ctx, st, when, outdir / (pkg + "_" + version + "_" + arch + ".deb"));
}

}  // namespace

std::string binary_modules_version(const std::string& version, const std::vector<Target>& targets) {
    if (targets.empty()) throw Error(ExitCode::Error, "mkbmdeb needs at least one kernel (-k) or --all.");
    std::string newest = targets.front().kver;
    std::vector<std::string> lines;
    for (auto& t : targets) {
        if (kernel_newer(t.kver, newest)) newest = t.kver;
        std::string l = t.kver + "/" + t.arch + "\n";
        if (std::find(lines.begin(), lines.end(), l) == lines.end()) lines.push_back(l);
    }
    std::sort(lines.begin(), lines.end());
    std::string all;
    for (auto& l : lines) all += l;
    std::string v = version + "+k" + kernel_as_version(newest) + "." + std::to_string(lines.size()) + "." +
                    sha256_hex(all).substr(0, 8);
    std::string why;
    if (!dpkg::valid_version(v, &why))
        throw Error(ExitCode::Error, "The package version '" + v + "' made for these kernels is not valid: " + why + ".");
    return v;
}

std::string deb_package_name(const std::string& module) {
    std::string n;
    for (char c : module) n += c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
    bool ok = n.size() >= 2 && std::isalnum(static_cast<unsigned char>(n[0]));
    for (char c : n) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    if (!ok)
        throw Error(ExitCode::Error, {"Module name '" + module + "' cannot become a Debian package name ('" + n + "').",
                                      "Package names use lower-case letters, digits, '+', '-' and '.', and start with a letter or digit."});
    return n;
}

std::string deb_arch(const std::string& a) {
    if (a == "x86_64") return "amd64";
    if (a == "aarch64" || a == "arm64") return "arm64";
    if (a == "i386" || a == "i486" || a == "i586" || a == "i686") return "i386";
    if (a == "ppc64le") return "ppc64el";
    if (a == "s390x" || a == "riscv64" || a == "mips64el") return a;
    if (a == "armv7l") return "armhf";
    return dpkg::host_arch();
}

std::vector<fs::path> make_binary_debs(Ops& ops, Context& ctx, const ModuleId& id, const std::vector<Target>& targets,
                                       const DebOptions& opt) {
    const Tree& tree = ops.tree();
    if (!tree.is_added(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    check_version(id);
    std::string base = deb_package_name(id.name);
    if (targets.empty()) throw Error(ExitCode::Error, "mkbmdeb needs at least one kernel (-k) or --all.");
    for (auto& t : targets)
        if (!dir_exists(tree.built_dir(id, t)))
            throw Error(ExitCode::InstallFailed, {"No modules built for " + t.kver + " (" + t.arch + ").",
                                                  "Modules must already be in the built state before using mkbmdeb."});
    for (auto& t : targets) site_key(ctx, t, opt);  // a missing key fails before anything is written
    fs::path outdir = output_dir(tree, id, opt);
    std::string maint = maintainer_of(opt);
    if (opt.one_package) return {make_one_binary_deb(ctx, tree, id, targets, outdir, maint, opt)};
    std::vector<fs::path> written;
    for (auto& t : targets) {
        Staging st(ctx.settings);
        std::int64_t newest = 0;
        std::string license = "unknown";
        stage_modules(ctx, tree, id, t, st, newest, license, opt);
        license = license_name(license);
        std::int64_t when = epoch_or(newest);
        std::string pkg = base + "-modules-" + t.kver;
        std::string arch = deb_arch(t.arch);
        doc_files(st, pkg, id, license, maint, "Built by dkms-run from " + id.name + " " + id.version + " for Linux " + t.kver + ".", when);
        std::uint64_t kib = write_md5sums(st);
        std::string control =
            "Package: " + pkg + "\n"
            "Source: " + base + "-dkms\n"
            "Version: " + id.version + "\n"
            "Architecture: " + arch + "\n"
            "Maintainer: " + maint + "\n"
            "Installed-Size: " + std::to_string(kib) + "\n"
            "Depends: linux-image-" + t.kver + "\n"
            "Provides: " + base + "-modules\n"
            "Section: kernel\n"
            "Priority: optional\n"
            "Description: " + id.name + " " + id.version + " kernel modules for Linux " + t.kver + "\n"
            " Kernel modules built by dkms-run from the DKMS source " + id.name + " " + id.version + "\n"
            " for Linux " + t.kver + " (" + t.arch + ").\n"
            " .\n"
            " They are installed below /lib/modules/" + t.kver + " and need no compiler,\n"
            " kernel headers or DKMS on the machine that installs them.\n";
        st.file("DEBIAN/control", control, 0644);
        st.file("DEBIAN/preinst", handover_preinst(id, {t}), 0755);
        st.file("DEBIAN/postinst", depmod_script("configure", t.kver), 0755);
        const std::string depmod = depmod_script("remove|purge|abort-install|abort-upgrade", t.kver);
        st.file("DEBIAN/postrm", takeback_postrm(depmod, id, {t}), 0755);
        ctx.report.out("Making binary module package " + pkg + " " + id.version + " (" + arch + ")...");
        written.push_back(dpkg_deb(ctx, st, when, outdir / (pkg + "_" + id.version + "_" + arch + ".deb")));
    }
    return written;
}

namespace {

// The latest added (not broken) version of module m, "" if none (autoinstall's choice).
std::string latest_added_version(const Tree& tree, const std::string& m) {
    std::string best;
    for (auto& v : tree.versions(m)) {
        ModuleId id{m, v};
        if (tree.is_broken(id) || !tree.is_added(id)) continue;
        if (best.empty() || dkms_ver_compare(v, best) > 0) best = v;
    }
    return best;
}

// Whether m/v's dkms.conf leaves kernel t out (BUILD_EXCLUSIVE_*, for the package or every module).
bool excluded_for(const Context& ctx, const Tree& tree, const ModuleId& id, const Target& t) {
    ModuleConfig c = load_module_config(ctx, tree.conf_path(id), ConfTarget{id.name, id.version, t}, ConfMode::Lenient);
    return c.build_excluded ||
           (!c.modules.empty() && std::all_of(c.modules.begin(), c.modules.end(), [](auto& m) { return m.excluded; }));
}

}  // namespace

std::vector<fs::path> make_all_binary_debs(Ops& ops, Context& ctx, const std::vector<Target>& kernels,
                                           const DebOptions& opt) {
    const Tree& tree = ops.tree();
    std::vector<std::pair<ModuleId, std::vector<Target>>> jobs;
    std::vector<std::string> missing;
    for (auto& m : tree.modules()) {
        std::string v = latest_added_version(tree, m);
        if (v.empty()) continue;
        ModuleId id{m, v};
        std::vector<Target> chosen;
        for (auto& t : kernels.empty() ? tree.built_targets(id) : kernels) {
            if (tree.is_built(id, t)) chosen.push_back(t);
            else if (excluded_for(ctx, tree, id, t))
                ctx.report.out(id.str() + " is not for Linux " + t.kver +
                               " (BUILD_EXCLUSIVE): left out of its package.");
            else if (!kernels.empty())
                missing.push_back("  " + id.str() + " for " + t.kver + " (" + t.arch + ")");
        }
        if (chosen.empty()) {
            ctx.report.out("Skipping " + id.str() + ": it is built for none of the kernels.");
            continue;
        }
        check_version(id);
        deb_package_name(id.name);
        jobs.push_back({id, chosen});
    }
    if (!missing.empty()) {
        std::vector<std::string> lines{"Modules must already be in the built state before using mkbmdeb; not built:"};
        lines.insert(lines.end(), missing.begin(), missing.end());
        lines.push_back("Build them first (dkms-run autoinstall -k <kernel> builds every module for a kernel), "
                        "then run mkbmdeb again. No package was written.");
        throw Error(ExitCode::InstallFailed, lines);
    }
    if (jobs.empty())
        throw Error(ExitCode::InstallFailed,
                    "No module of the DKMS tree is built for these kernels: no package to make.");
    for (auto& job : jobs)
        for (auto& t : job.second) site_key(ctx, t, opt);  // every key problem before the first package
    DebOptions one = opt;
    one.one_package = true;
    std::vector<fs::path> written;
    for (auto& [id, targets] : jobs)
        for (auto& p : make_binary_debs(ops, ctx, id, targets, one)) written.push_back(p);
    return written;
}

fs::path make_source_deb(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt) {
    const Tree& tree = ops.tree();
    if (!tree.is_added(id) || !link_exists(tree.source_link(id)))
        throw Error(ExitCode::NotFound, {"The module/version combo: " + id.str() + " is not located in the DKMS tree with its source.",
                                         "mkdeb packages the source; add the module from its source first."});
    check_version(id);
    std::string pkg = deb_package_name(id.name) + "-dkms";
    fs::path outdir = output_dir(tree, id, opt);
    std::string maint = maintainer_of(opt);
    fs::path src = fs::canonical(tree.source_link(id));
    Staging st(ctx.settings);
    std::vector<archive::Member> members;
    archive::collect_tree(src, "", members);
    fs::path dest = fs::path("usr/src") / (id.name + "-" + id.version);
    st.dirs(dest);
    for (auto& m : members) {
        fs::path rel = dest / m.path;
        if (m.type == archive::MemberType::Directory) st.dirs(rel);
        else if (m.type == archive::MemberType::File) st.file(rel, m.data, (m.mode & 0111) ? 0755 : 0644);
        else if (symlink(m.link.c_str(), (st.root() / rel).c_str()) != 0) throw SystemError("cannot create " + rel.string(), errno);
    }
    std::int64_t when = epoch_or(archive::newest_mtime(members));
    doc_files(st, pkg, id, "GPL-2", maint, "Packaged by dkms-run mkdeb from " + id.name + " " + id.version + ".", when);
    std::uint64_t kib = write_md5sums(st);
    // The same maintainer scripts dh_dkms writes.
    dh::Tokens tokens{{"MODULE_NAME", id.name}, {"MODULE_VERSION", id.version}};
    for (auto [script, tmpl] : {std::pair{"postinst", "postinst-dkms"}, std::pair{"prerm", "prerm-dkms"}}) {
        std::string text;
        for (auto& dir : dh::autoscript_search_path())
            if (fs::exists(dir / tmpl)) {
                text = read_file(dir / tmpl);
                break;
            }
        if (text.empty()) throw Error(ExitCode::Error, std::string("The autoscript template ") + tmpl + " was not found (set DH_AUTOSCRIPTDIR).");
        st.file(fs::path("DEBIAN") / script, "#!/bin/sh\nset -e\n" + dh::render_autoscript(tmpl, text, tokens) + "exit 0\n", 0755);
    }
    std::string control =
        "Package: " + pkg + "\n"
        "Version: " + id.version + "\n"
        "Architecture: all\n"
        "Maintainer: " + maint + "\n"
        "Installed-Size: " + std::to_string(kib) + "\n"
        "Depends: dkms-run | dkms\n"
        "Section: kernel\n"
        "Priority: optional\n"
        "Description: " + id.name + " " + id.version + " kernel module source (DKMS)\n"
        " The source of the " + id.name + " kernel modules with its dkms.conf. The modules\n"
        " are built and installed by dkms-run (or dkms) for each installed kernel\n"
        " that has headers.\n";
    st.file("DEBIAN/control", control, 0644);
    ctx.report.out("Making source package " + pkg + " " + id.version + "...");
    return dpkg_deb(ctx, st, when, outdir / (pkg + "_" + id.version + "_all.deb"));
}

fs::path make_source_dsc(Ops& ops, Context& ctx, const ModuleId& id, const DebOptions& opt) {
    const Tree& tree = ops.tree();
    if (!tree.is_added(id) || !link_exists(tree.source_link(id)))
        throw Error(ExitCode::NotFound, {"The module/version combo: " + id.str() + " is not located in the DKMS tree with its source.",
                                         "mkdsc packages the source; add the module from its source first."});
    check_version(id);
    std::string pkg = deb_package_name(id.name) + "-dkms";
    fs::path outdir = output_dir(tree, id, opt);
    std::string maint = maintainer_of(opt);
    fs::path src = fs::canonical(tree.source_link(id));
    TempDir tmp(ctx.settings.tmp_location, "dkms-run.dsc.");
    fs::path top = tmp.path() / (pkg + "-" + id.version);
    fs::create_directories(top);
    copy_tree(src, top / "src");
    std::vector<archive::Member> members;
    archive::collect_tree(src, "", members);
    std::int64_t when = epoch_or(archive::newest_mtime(members));
    fs::create_directories(top / "debian/source");
    auto put = [&](const char* rel, const std::string& text, mode_t mode = 0644) { write_file_atomic(top / rel, text, mode); };
    put("debian/source/format", "3.0 (native)\n");
    put("debian/changelog", pkg + " (" + id.version + ") unstable; urgency=medium\n\n  * DKMS source of " + id.name + " " +
                                id.version + ", packaged by dkms-run mkdsc.\n\n -- " + maint + "  " + rfc2822(when) + "\n");
    put("debian/control",
        "Source: " + pkg + "\nSection: kernel\nPriority: optional\nMaintainer: " + maint +
            "\nBuild-Depends: debhelper-compat (= 13), dh-sequence-dkms\nStandards-Version: 4.6.2\nRules-Requires-Root: no\n\n"
            "Package: " + pkg + "\nArchitecture: all\nDepends: ${misc:Depends}\nDescription: " + id.name + " " + id.version +
            " kernel module source (DKMS)\n The source of the " + id.name + " kernel modules with its dkms.conf. The modules\n"
            " are built and installed by dkms-run (or dkms) for each installed kernel\n that has headers.\n");
    put("debian/rules", "#!/usr/bin/make -f\n%:\n\tdh $@\n\n# The module is built on the user's machine, not here.\n"
                        "override_dh_auto_configure override_dh_auto_build override_dh_auto_test override_dh_auto_install override_dh_auto_clean:\n", 0755);
    put(("debian/" + pkg + ".install").c_str(), "src/* usr/src/" + id.name + "-" + id.version + "/\n");
    put(("debian/" + pkg + ".dkms").c_str(), "src/dkms.conf\n");
    put("debian/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: " + id.name +
                                "\n\nFiles: *\nCopyright: the authors of " + id.name + "\nLicense: GPL-2\n See the module source.\n");
    set_times(top, when);
    ProcessSpec p;
    p.argv = {"dpkg-source", "-b", top.filename().string()};
    p.cwd = tmp.path();
    p.set_env = {{"SOURCE_DATE_EPOCH", std::to_string(when)}};
    p.out = ProcessSpec::Out::Capture;
    p.err_to_out = true;
    auto r = run_process(ctx, p);
    if (!r.ok()) throw Error(ExitCode::InstallFailed, {"dpkg-source could not build the source package:", r.out});
    std::string stem = pkg + "_" + id.version;
    fs::path dsc = outdir / (stem + ".dsc");
    for (auto f : {stem + ".dsc", stem + ".tar.xz"}) copy_file_atomic(tmp.path() / f, outdir / f, 0644);
    ctx.report.out("Wrote " + dsc.string());
    return dsc;
}

}  // namespace dkms
