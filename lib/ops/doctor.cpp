// SPDX-License-Identifier: GPL-2.0-or-later
// doctor: read-only checks of a machine's kernels, dkms tree, install locations and MOK key pair.
#include "dkms/ops/doctor.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "dkms/conf/dkms_conf.hpp"
#include "dkms/conf/framework.hpp"
#include "dkms/core/error.hpp"
#include "dkms/core/text.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/kernel/module_files.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/ops/signing.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/libcrypto.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/tree/outcome.hpp"
#include "dkms/tree/tree.hpp"

namespace dkms {

namespace {

std::vector<fs::path> entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
}

bool kernel_like(const std::string& k) {
    std::size_t i = 0;
    while (i < k.size() && std::isdigit(static_cast<unsigned char>(k[i]))) ++i;
    return i > 0 && i < k.size() && k[i] == '.';
}


std::string openssl_reason() {
    unsigned long e = libcrypto().ERR_get_error();
    libcrypto().ERR_clear_error();
    if (!e) return "not a key or certificate dkms-run can read";
    char buf[256];
    libcrypto().ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

X509Ptr parse_cert(const std::string& bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    X509Ptr cert(libcrypto().d2i_X509(nullptr, &p, long(bytes.size())), libcrypto().X509_free);
    if (!cert) {
        libcrypto().ERR_clear_error();
        BioPtr b(libcrypto().BIO_new_mem_buf(bytes.data(), int(bytes.size())), libcrypto().BIO_free);
        cert.reset(libcrypto().PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    }
    return cert;
}

KeyPtr parse_key(const std::string& bytes) {
    BioPtr b(libcrypto().BIO_new_mem_buf(bytes.data(), int(bytes.size())), libcrypto().BIO_free);
    // An empty passphrase callback: an encrypted key cannot be used by sign-file unattended either.
    KeyPtr key(libcrypto().PEM_read_bio_PrivateKey(
                   b.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr),
               libcrypto().EVP_PKEY_free);
    if (!key) {
        libcrypto().ERR_clear_error();
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        key.reset(libcrypto().d2i_AutoPrivateKey(nullptr, &p, long(bytes.size())));
    }
    return key;
}

class Doctor {
public:
    Doctor(const Context& ctx, const DoctorProbes& probes)
        : s_(ctx.settings), probes_(probes), tree_(s_), quiet_ctx_{s_, quiet_} {}

    std::vector<Problem> run() {
        kernels_ = installed_kernels();
        std::vector<ModuleId> latest = latest_versions();
        check_headers(!latest.empty());
        check_not_installed(latest);
        check_install_locations();
        check_signing();
        check_leftovers();
        check_broken();
        check_other_dkms();
        return std::move(out_);
    }

private:
    void add(std::string kind, std::string text, std::string fix) {
        out_.push_back({std::move(kind), std::move(text), std::move(fix)});
    }
    Target target(const std::string& k) const { return {k, probes_.arch}; }

    // Kernels installed in the root: a modules directory with modules.dep, or an image in /boot.
    std::vector<std::string> installed_kernels() const {
        std::set<std::string> ks;
        for (auto& p : entries(s_.install_tree)) {
            std::string k = p.filename().string();
            if (unsafe_name_reason(k).empty() && path_exists(p / "modules.dep")) ks.insert(k);
        }
        for (auto& p : entries(s_.root / "boot")) {
            std::string n = p.filename().string();
            if (n.rfind("vmlinuz-", 0) == 0 && unsafe_name_reason(n.substr(8)).empty()) ks.insert(n.substr(8));
        }
        std::vector<std::string> out(ks.begin(), ks.end());
        std::sort(out.begin(), out.end(), natural_less);
        return out;
    }

    // The version of each module that autoinstall would build: the highest one added.
    std::vector<ModuleId> latest_versions() const {
        std::vector<ModuleId> out;
        for (auto& m : tree_.modules()) {
            std::string best;
            for (auto& v : tree_.versions(m))
                if (tree_.is_added({m, v}) && (best.empty() || dkms_ver_compare(v, best) > 0)) best = v;
            if (!best.empty()) out.push_back({m, best});
        }
        return out;
    }

    void check_headers(bool any_module) {
        for (auto& k : kernels_) {
            fs::path ksrc = s_.kernel_source_dir_for(k);
            if (!dir_exists(ksrc / "include")) {
                if (any_module)
                    add("headers",
                        "Kernel " + k + " has no headers (" + ksrc.string() + "): no DKMS module can be built for it.",
                        "apt-get install linux-headers-" + k);
                continue;
            }
            std::vector<std::string> missing = missing_generated_headers(ksrc);
            if (!missing.empty() && any_module) {
                std::string list;
                for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
                add("headers",
                    "The headers of kernel " + k + " (" + ksrc.string() + ") are incomplete: " + list + " missing.",
                    "apt-get install --reinstall linux-headers-" + k + " (and linux-kbuild for scripts/)");
            }
            if (missing.empty()) with_headers_.push_back(k);
        }
    }

    // dkms.conf for one kernel, read quietly; a failure is a problem reported once per module version.
    std::optional<ModuleConfig> conf_for(const ModuleId& id, const Target& t) {
        try {
            return load_module_config(quiet_ctx_, tree_.conf_path(id), ConfTarget{id.name, id.version, t},
                                      ConfMode::Lenient);
        } catch (const Error& e) {
            if (bad_conf_.insert(id.str()).second)
                add("dkms-conf",
                    "The dkms.conf of " + id.str() + " (" + tree_.conf_path(id).string() +
                        ") cannot be read for kernel " + t.kver + ": " + e.what(),
                    "Fix it, or reinstall the package that provides " + id.str() + ".");
            return std::nullopt;
        }
    }

    void check_not_installed(const std::vector<ModuleId>& latest) {
        for (auto& id : latest)
            for (auto& k : with_headers_) {
                Target t = target(k);
                if (tree_.is_installed(id, t) || binary_package_providing(s_, id.name, k)) continue;
                std::optional<ModuleConfig> c = conf_for(id, t);
                if (!c || !c->autoinstall) continue;
                bool all_excluded = !c->modules.empty();
                for (auto& m : c->modules) all_excluded = all_excluded && m.excluded;
                if (c->build_excluded || (c->has_build_exclusive && all_excluded)) continue;
                report_not_installed(id, t);
            }
    }

    void report_not_installed(const ModuleId& id, const Target& t) {
        std::string other = tree_.installed_version(id.name, t);
        std::string also = other.empty() ? "" : " (" + id.name + "/" + other + " is)";
        std::string where = " for kernel " + t.str();
        if (tree_.is_built(id, t)) {
            add("not-installed", id.str() + " is built but not installed" + where + also + ".",
                "dkms-run install " + id.str() + " -k " + t.kver);
            return;
        }
        std::optional<BuildOutcome> o = read_build_outcome(tree_, id, t);
        if (o && o->result == "failed") {
            add("not-installed",
                id.str() + " is not installed" + where + also + ": its last build failed (" +
                    outcome_time_string(o->time) + ", " + (o->cause.empty() ? "unknown" : o->cause) +
                    "): " + o->summary,
                o->fix + (o->log.empty() ? "" : " The build's log: " + o->log));
            return;
        }
        add("not-installed", id.str() + " is not built" + where + also + ".",
            "dkms-run install " + id.str() + " -k " + t.kver);
    }

    // ---- install locations: orphans, and manifests whose files are missing or changed -------------

    struct Accounting {
        std::set<fs::path> paths;     ///< installed_to of every manifest for the kernel
        std::set<std::string> names;  ///< module/ files of installed builds that have no manifest
        std::set<fs::path> dirs;      ///< where to look for orphans
    };

    Accounting account(const std::string& k) {
        Accounting a;
        fs::path kdir = s_.install_tree / k;
        a.dirs.insert(kdir / "updates/dkms");
        if (std::string d = distro_dest_override(s_); !d.empty()) a.dirs.insert(kdir / fs::path(d).relative_path());
        for (auto& m : tree_.modules())
            for (auto& v : tree_.versions(m)) {
                ModuleId id{m, v};
                for (auto& t : tree_.built_targets(id)) {
                    if (t.kver != k) continue;
                    Manifest man;
                    bool has = false;
                    try {
                        has = read_manifest(tree_.built_dir(id, t), man);
                    } catch (const Error&) {
                    }
                    for (auto& f : man.files) {
                        if (f.installed_to.empty() || !unsafe_path_below(kdir, f.installed_to).empty()) continue;
                        fs::path p = fs::path(f.installed_to).lexically_normal();
                        a.paths.insert(p);
                        // the kernel's own tree (kernel/) is dpkg's: never searched for orphans
                        fs::path rel = p.lexically_relative(kdir);
                        if (!rel.empty() && rel.begin()->string() != "kernel") a.dirs.insert(p.parent_path());
                    }
                    if (!has && tree_.is_installed(id, t))
                        for (auto& e : entries(tree_.built_dir(id, t) / "module"))
                            a.names.insert(e.filename().string());
                }
            }
        return a;
    }

    // Module files that dpkg's lists name (binary module packages install into updates/dkms too).
    std::set<fs::path> dpkg_owned(const std::vector<fs::path>& candidates) const {
        std::set<fs::path> owned;
        if (candidates.empty()) return owned;
        std::set<std::string> wanted;
        for (auto& c : candidates) wanted.insert("/" + c.lexically_relative(s_.root).string());
        for (auto& p : entries(s_.root / "var/lib/dpkg/info")) {
            if (p.extension() != ".list") continue;
            std::string text;
            try {
                text = read_file(p);
            } catch (const Error&) {
                continue;
            }
            for (std::size_t i = 0, j; i < text.size(); i = j + 1) {
                j = text.find('\n', i);
                if (j == std::string::npos) j = text.size();
                std::string line = text.substr(i, j - i);
                if (wanted.count(line)) owned.insert((s_.root / fs::path(line).relative_path()).lexically_normal());
            }
        }
        return owned;
    }

    void check_install_locations() {
        for (auto& k : kernels_) {
            Accounting a = account(k);
            std::vector<fs::path> candidates;
            for (auto& d : a.dirs) {
                if (!real_dir_exists(d)) continue;
                std::error_code ec;
                for (fs::recursive_directory_iterator it(d, fs::directory_options::none, ec), end; !ec && it != end;
                     it.increment(ec)) {
                    if (!it->is_regular_file(ec) && !it->is_symlink(ec)) continue;
                    fs::path p = it->path().lexically_normal();
                    std::string n = p.filename().string();
                    if (temp_file_name(n) && !module_base_name(n.substr(1, n.size() - 12)).empty()) {
                        leftover(p, "a module file copied by an interrupted install");
                        continue;
                    }
                    if (module_base_name(n).empty() || a.paths.count(p) || a.names.count(n)) continue;
                    if (std::find(candidates.begin(), candidates.end(), p) == candidates.end()) candidates.push_back(p);
                }
            }
            std::sort(candidates.begin(), candidates.end());  // the same report whatever the file system's order
            std::set<fs::path> owned = dpkg_owned(candidates);
            for (auto& p : candidates)
                if (!owned.count(p))
                    add("orphan", p.string() + " is not accounted for: no DKMS module's manifest or build has it.",
                        "If no package owns it (dpkg -S " + p.string() + "), remove it and run depmod " + k +
                            "; if it belongs to a module, reinstall that module.");
        }
        for (auto& m : tree_.modules())
            for (auto& v : tree_.versions(m))
                for (auto& t : tree_.built_targets({m, v})) check_manifest({m, v}, t);
    }

    void check_manifest(const ModuleId& id, const Target& t) {
        fs::path bdir = tree_.built_dir(id, t);
        std::string who = id.str() + " for kernel " + t.str();
        std::string rebuild =
            "dkms-run build --force " + id.str() + " -k " + t.kver + (t.arch == probes_.arch ? "" : " -a " + t.arch);
        std::string reinstall = "dkms-run install --force " + id.str() + " -k " + t.kver;
        Manifest man;
        try {
            if (!read_manifest(bdir, man)) return;
        } catch (const Error& e) {
            add("manifest", who + ": " + e.what(), rebuild);
            return;
        }
        bool installed = tree_.is_installed(id, t);
        fs::path kdir = s_.install_tree / t.kver;
        for (auto& f : man.files) {
            fs::path built = bdir / "module" / f.name;
            if (!path_exists(built))
                add("manifest", who + ": the built module " + built.string() + " is missing.", rebuild);
            else if (sha256_or_empty(built) != f.sha256)
                add("manifest", who + ": the built module " + built.string() + " was changed since it was built.",
                    rebuild);
            if (!installed || f.installed_to.empty() || !unsafe_path_below(kdir, f.installed_to).empty()) continue;
            if (!path_exists(f.installed_to))
                add("manifest", who + ": " + f.installed_to + " is missing (it was installed).", reinstall);
            else if (sha256_or_empty(f.installed_to) != f.sha256)
                add("manifest", who + ": " + f.installed_to + " was changed since it was installed.",
                    "If the change was not yours: " + reinstall);
        }
    }

    static std::string sha256_or_empty(const fs::path& p) {
        try {
            return sha256_file(p);
        } catch (const Error&) {
            return "";
        }
    }

    // ---- the MOK key pair ---------------------------------------------------------------------

    void check_signing() {
        std::string k = kernels_.empty() ? running_kernel() : kernels_.back();
        SigningSettings ss;
        try {
            ss = read_signing_settings(s_, target(k));
        } catch (const Error& e) {
            add("signing", std::string("framework.conf cannot be read for the signing settings: ") + e.what(),
                "Fix " + (s_.etc_dkms() / "framework.conf").string() + ".");
            return;
        }
        if (ss.try_sign_modules == "false") return;
        MokPaths mok = mok_paths(s_, ss);
        bool pkcs11 = mok.key.rfind("pkcs11:", 0) == 0;
        bool have_key = pkcs11 || path_exists(mok.key), have_cert = path_exists(mok.cert);
        if (!have_key && !have_cert) return;  // the first build that signs makes a new pair
        if (have_key != have_cert) {
            std::string present = have_key ? mok.key : mok.cert.string();
            std::string missing = have_key ? mok.cert.string() : mok.key;
            add("signing",
                std::string("The MOK ") + (have_key ? "signing key " : "certificate ") + present + " exists, but its " +
                    (have_key ? "certificate " : "signing key ") + missing + " is missing.",
                "Restore " + missing + " from a backup, or remove " + present +
                    " and run 'dkms-run generate_mok' (then enrol the new certificate: mokutil --import " +
                    mok.cert.string() + ").");
            return;
        }
        X509Ptr cert = check_cert(mok.cert);
        if (!pkcs11) check_key(mok.key, cert.get(), mok.cert);
        if (cert && probes_.secure_boot && probes_.secure_boot().value_or(false)) {
            std::optional<std::string> said =
                probes_.mokutil_test_key ? probes_.mokutil_test_key(mok.cert) : std::nullopt;
            std::vector<std::string> notice = mok_enrolment_notice(said, mok.cert);
            if (!notice.empty())
                add("signing", notice[0],
                    notice.size() > 1 ? notice[1] : "Reboot and confirm the enrolment in MokManager.");
        }
    }

    X509Ptr check_cert(const fs::path& path) {
        std::string bytes;
        std::string redo =
            "Restore it from a backup, or remove it and its key, run 'dkms-run generate_mok' and enrol "
            "the new certificate (mokutil --import " +
            path.string() + ").";
        try {
            bytes = read_file(path);
        } catch (const Error& e) {
            add("signing", "The MOK certificate cannot be read: " + std::string(e.what()), redo);
            return X509Ptr(nullptr, libcrypto().X509_free);
        }
        X509Ptr cert = parse_cert(bytes);
        if (!cert) {
            add("signing", "The MOK certificate " + path.string() + " cannot be read: " + openssl_reason() + ".", redo);
            return cert;
        }
        std::time_t now = probes_.now;
        if (libcrypto().X509_cmp_time(libcrypto().X509_get0_notAfter(cert.get()), &now) < 0) {
            BioPtr b(libcrypto().BIO_new(libcrypto().BIO_s_mem()), libcrypto().BIO_free);
            libcrypto().ASN1_TIME_print(b.get(), libcrypto().X509_get0_notAfter(cert.get()));
            char* data = nullptr;
            long n = libcrypto().BIO_ctrl(b.get(), BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data
            add("signing",
                "The MOK certificate " + path.string() + " expired on " + std::string(data, std::size_t(n)) +
                    " (Linux still loads modules signed with it; other tools may refuse it).",
                "Make a new pair: remove it and its key, run 'dkms-run generate_mok', enrol the new certificate "
                "(mokutil --import " +
                    path.string() + ") and rebuild the modules.");
        }
        return cert;
    }

    void check_key(const std::string& path, X509* cert, const fs::path& cert_path) {
        std::string bytes;
        try {
            bytes = read_file(path);
        } catch (const Error& e) {
            add("signing", "The MOK signing key cannot be read: " + std::string(e.what()),
                "Make it readable by root (chmod 600 " + path + "), or restore it from a backup.");
            return;
        }
        KeyPtr key = parse_key(bytes);
        if (!key) {
            add("signing",
                "The MOK signing key " + path + " cannot be read: " + openssl_reason() +
                    " (sign-file needs it unencrypted).",
                "Restore it from a backup, or make a new pair with 'dkms-run generate_mok' and enrol it.");
            return;
        }
        if (cert && libcrypto().X509_check_private_key(cert, key.get()) != 1) {
            libcrypto().ERR_clear_error();
            add("signing",
                "The MOK signing key " + path + " and the certificate " + cert_path.string() +
                    " are not a pair: modules signed with it will not verify.",
                "Restore the matching half from a backup, or make a new pair with 'dkms-run generate_mok'.");
        }
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && (st.st_mode & 0077))
            add("signing", "The MOK signing key " + path + " can be read by users other than its owner.",
                "chmod 600 " + path);
    }

    // ---- leftovers, broken versions ------------------------------------------------------------

    void leftover(const fs::path& p, const std::string& what) {
        add("leftover", p.string() + " is " + what + ".",
            "dkms-run removes it the next time it changes that module (e.g. dkms-run autoinstall), or remove it by "
            "hand.");
    }

    void check_leftovers() {
        for (auto& m : tree_.modules()) {
            fs::path mdir = tree_.module_dir(m);
            for (auto& p : entries(mdir)) {
                std::string n = p.filename().string();
                if (temp_dir_name(n, ".tmp_add_"))
                    leftover(p, "an add interrupted before it finished");
                else if (temp_dir_name(n, ".tmp_remove_"))
                    leftover(p, "a remove interrupted before it finished");
                else if (n.rfind(".kernel-", 0) == 0 && temp_file_name(n))
                    leftover(p, "a link an interrupted install made");
            }
            std::error_code ec;
            fs::path orig = mdir / "original_module";
            if (real_dir_exists(orig))
                for (fs::recursive_directory_iterator it(orig, fs::directory_options::none, ec), end; !ec && it != end;
                     it.increment(ec))
                    if (temp_file_name(it->path().filename().string()))
                        leftover(it->path(), "an interrupted copy of a kernel module");
            for (auto& v : tree_.versions(m)) version_leftovers({m, v});
        }
        for (auto& p : entries(s_.source_tree)) {
            std::string n = p.filename().string();
            if (n.size() > 1 && n[0] == '.' && temp_file_name(n) && real_dir_exists(p))
                leftover(p, "a source copy an interrupted add left");
        }
    }

    void version_leftovers(const ModuleId& id) {
        fs::path vdir = tree_.version_dir(id);
        for (auto& p : entries(vdir)) {
            std::string n = p.filename().string();
            if (temp_dir_name(n, ".source.tmp-")) leftover(p, "a source copy an interrupted add left");
            if (!kernel_like(n) || !real_dir_exists(p)) continue;
            for (auto& q : entries(p)) {
                std::string a = q.filename().string();
                if (a.rfind(".tmp_", 0) == 0 && a.size() > 12 && a[a.size() - 7] == '_' &&
                    random_tail(std::string_view(a).substr(a.size() - 6)))
                    leftover(q, "a build or unbuild that was interrupted");
            }
        }
        for (auto& t : tree_.built_targets(id)) {
            fs::path b = tree_.built_dir(id, t);
            if (!tree_.is_built(id, t))
                add("leftover", b.string() + " is an unfinished build of " + id.str() + " for kernel " + t.str() + ".",
                    "dkms-run build " + id.str() + " -k " + t.kver + " replaces it.");
            for (auto& q : entries(b))
                if (temp_file_name(q.filename().string())) leftover(q, "a manifest an interrupted run was writing");
        }
        std::error_code ec;
        fs::path rec = vdir / outcomes_dir_name;
        if (real_dir_exists(rec))
            for (fs::recursive_directory_iterator it(rec, fs::directory_options::none, ec), end; !ec && it != end;
                 it.increment(ec))
                if (temp_file_name(it->path().filename().string()))
                    leftover(it->path(), "a build record being written");
    }

    void check_broken() {
        for (auto& m : tree_.modules())
            for (auto& v : tree_.versions(m)) {
                ModuleId id{m, v};
                if (tree_.is_broken(id))
                    add("broken",
                        id.str() + " is broken: its source " + tree_.source_dir(id).string() +
                            " (or the link to it) is missing.",
                        "Reinstall the package that provides it, or remove it: dkms-run remove " + id.str() + " --all");
            }
    }

    // ---- a second DKMS --------------------------------------------------------------------------

    bool is_dkms_run(const fs::path& p) const {
        std::error_code ec;
        if (fs::weakly_canonical(p, ec).filename() == "dkms-run") return true;
        struct stat a {};
        if (stat(p.c_str(), &a) != 0) return false;
        for (const char* d : {"usr/sbin", "usr/bin", "usr/local/sbin", "usr/local/bin"}) {
            struct stat b {};
            if (stat((s_.root / d / "dkms-run").c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return true;
        }
        return false;
    }

    // Two DKMS only matter where dkms-run is installed (its program or its kernel hook).
    bool dkms_run_installed() const {
        for (const char* p : {"usr/sbin/dkms-run", "usr/bin/dkms-run", "etc/kernel/postinst.d/dkms-run"})
            if (path_exists(s_.root / p)) return true;
        return false;
    }

    void check_other_dkms() {
        if (!dkms_run_installed()) return;
        std::set<fs::path> seen;
        bool other = false;
        for (const char* d : {"usr/sbin", "usr/bin", "sbin", "bin", "usr/local/sbin", "usr/local/bin"}) {
            fs::path p = s_.root / d / "dkms";
            if (!path_exists(p)) continue;
            std::error_code ec;
            fs::path c = fs::weakly_canonical(p, ec);
            if (!seen.insert(ec ? p : c).second || is_dkms_run(p)) continue;
            std::string what = "a program";
            try {
                std::string head = read_file(p).substr(0, 64);
                if (head.rfind("#!", 0) == 0) what = "a script (" + head.substr(0, head.find('\n')) + ")";
            } catch (const Error&) {
            }
            other = true;
            add("other-dkms", p.string() + " is another DKMS, not dkms-run: " + what + "; both run on kernel updates.",
                "Keep one: apt-get remove dkms (dkms-run provides the dkms command and keeps /var/lib/dkms), or "
                "remove " +
                    p.string() + ".");
        }
        fs::path autoinstaller = s_.root / "usr/lib/dkms/dkms_autoinstaller";
        if (path_exists(autoinstaller) && !other)
            add("other-dkms", autoinstaller.string() + " (Debian's dkms) is installed beside dkms-run.",
                "Keep one: apt-get remove dkms (dkms-run provides the dkms command and keeps /var/lib/dkms).");
    }

    const Settings& s_;
    const DoctorProbes& probes_;
    Tree tree_;
    NullReporter quiet_;
    Context quiet_ctx_;
    std::vector<std::string> kernels_, with_headers_;
    std::set<std::string> bad_conf_;
    std::vector<Problem> out_;
};

}  // namespace

DoctorProbes DoctorProbes::of_machine(const Settings& s) {
    DoctorProbes p;
    p.arch = machine_arch();
    p.now = std::time(nullptr);
    if (s.root.lexically_normal() == "/") {
        p.secure_boot = []() -> std::optional<bool> {
            if (!dir_exists("/sys/firmware/efi/efivars")) return std::nullopt;
            return secure_boot_enabled();
        };
        p.mokutil_test_key = [](const fs::path& cert) -> std::optional<std::string> {
            if (find_program("mokutil").empty()) return std::nullopt;
            ProcessSpec ps;
            ps.argv = {"mokutil", "--test-key", cert.string()};
            ps.out = ProcessSpec::Out::Capture;
            ps.err_to_out = true;
            return run_process(ps).out;
        };
    }
    return p;
}

std::vector<Problem> doctor(const Context& ctx, const DoctorProbes& probes) {
    return Doctor(ctx, probes).run();
}

std::string format_doctor_json(const std::vector<Problem>& problems) {
    std::string o = "{\"schema\": 1, \"problems\": [";
    for (std::size_t i = 0; i < problems.size(); ++i) {
        auto& p = problems[i];
        o += (i ? ",\n  " : "\n  ");
        o += "{\"kind\": \"" + json_escape(p.kind) + "\", \"text\": \"" + json_escape(p.text) + "\", \"fix\": \"" +
             json_escape(p.fix) + "\"}";
    }
    o += problems.empty() ? "]}" : "\n]}";
    return o;
}

}  // namespace dkms
