// SPDX-License-Identifier: GPL-2.0-or-later
// Module signing as dkms 3.4 does it (sign-file after strip, before compression), plus a check
// of the signature produced and a MOK pair that is generated once and never silently replaced.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iterator>
#include <fstream>
#include <memory>
#include <sstream>
#include <mutex>
#include <set>

#include "dkms/conf/framework.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/libcrypto.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/conf/raw_conf.hpp"
#include "dkms/ops/signing.hpp"
#include "dkms/core/scope_guard.hpp"

namespace dkms {

namespace {

constexpr std::string_view sig_marker = "~Module signature appended~\n";
constexpr size_t sig_struct_size = 12;  // struct module_signature
constexpr unsigned pkey_id_pkcs7 = 2;

// A 0600 temporary file next to `final` (removed unless linked into place), for a no-clobber link()
// into place later.
std::unique_ptr<TempFile> temp_beside(const fs::path& final) {
    try {
        auto t = std::make_unique<TempFile>(final, ".");
        t->close();
        return t;
    } catch (const SystemError& e) {
        throw SystemError("cannot create a temporary file beside " + final.string(), e.err());
    }
}

// link() refuses to replace an existing file, so a pair that appeared meanwhile is never overwritten.
// Returns false when `final` already exists (someone else put it there), throws on other errors.
bool link_into_place(const fs::path& tmp, const fs::path& final) {
    if (link(tmp.c_str(), final.c_str()) == 0) return true;
    if (errno == EEXIST) return false;
    throw SystemError("cannot create " + final.string(), errno);
}

// An exclusive flock(2) on a directory, held while a MOK pair is generated in it, so that
// concurrent generators (threads of one dkms-run, other dkms-run processes, generate_mok) make
// one pair between them: whoever gets the lock second finds the pair complete. Locking the
// directory itself leaves no lock file behind. Without a lock (say, a read-only directory, where
// generation fails anyway) the no-clobber link() still keeps the first pair.
class DirLock {
public:
    explicit DirLock(const fs::path& dir) {
        fd_ = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0) return;
        while (flock(fd_, LOCK_EX) != 0) {
            if (errno == EINTR) continue;
            close(fd_);
            fd_ = -1;
            return;
        }
    }
    ~DirLock() {
        if (fd_ >= 0) close(fd_);
    }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_ = -1;
};

bool nonempty_file(const fs::path& p) {
    struct stat st{};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

// A generator that does not take our lock (Debian's dkms, which lets openssl write the final
// names) made the pair while we did: give it a moment to finish both halves.
bool wait_for_pair(const MokPaths& mok) {
    for (int i = 0; i < 100; ++i) {
        if (nonempty_file(mok.key) && nonempty_file(mok.cert)) return true;
        usleep(50 * 1000);
    }
    return false;
}

}  // namespace

std::string shown_key(std::string_view key) {
    std::string k(key);
    if (k.rfind("pkcs11:", 0) != 0) return k;
    constexpr std::string_view attr = "pin-value=";
    for (size_t at = k.find(attr); at != std::string::npos; at = k.find(attr, at + 1)) {
        if (at != 7 && k[at - 1] != ';' && k[at - 1] != '?' && k[at - 1] != '&') continue;
        size_t b = at + attr.size(), e = k.find_first_of(";?&", b);
        if (e == std::string::npos) e = k.size();
        k.replace(b, e - b, "(hidden)");
    }
    return k;
}

SigningSettings read_signing_settings(const Settings& s, const Target& t) {
    SigningSettings ss;
    std::vector<fs::path> files = framework_files(s);
    if (files.empty()) return ss;
    ShellPresets presets{{"kernelver", t.kver},
                         {"arch", t.arch},
                         {"kernel_source_dir", s.kernel_source_dir_for(t.kver).string()},
                         {"dkms_tree", s.dkms_tree.string()},
                         {"source_tree", s.source_tree.string()},
                         {"install_tree", s.install_tree.string()}};
    RawVars v = evaluate_config(files, presets, {"sign_file", "mok_signing_key", "mok_certificate", "try_sign_modules"});
    ss.sign_file = raw_get(v, "sign_file");
    ss.mok_signing_key = raw_get(v, "mok_signing_key");
    ss.mok_certificate = raw_get(v, "mok_certificate");
    ss.try_sign_modules = raw_get(v, "try_sign_modules");
    return ss;
}

MokPaths mok_paths(const Settings& s, const SigningSettings& ss) {
    MokPaths m;
    m.key = ss.mok_signing_key.empty() ? (s.root / "var/lib/dkms/mok.key").string() : ss.mok_signing_key;
    m.cert = ss.mok_certificate.empty() ? s.root / "var/lib/dkms/mok.pub" : fs::path(ss.mok_certificate);
    return m;
}

fs::path find_sign_file(const Settings& s, const Target& t, const SigningSettings& ss) {
    if (!ss.sign_file.empty()) return ss.sign_file;
    fs::path p;
    std::string distro = running_distribution(s);
    if (distro.rfind("debian", 0) == 0) {
        // /usr/lib/linux-kbuild-${kernelver%.*}: 6.1.0-56-amd64 -> 6.1
        std::string mm = t.kver.substr(0, t.kver.rfind('.'));
        p = s.root / ("usr/lib/linux-kbuild-" + mm) / "scripts/sign-file";
    } else if (distro.rfind("ubuntu", 0) == 0) {
        p = find_program("kmodsign");
        if (p.empty()) p = s.root / ("usr/src/linux-headers-" + t.kver) / "scripts/sign-file";
    }
    if (p.empty() || !fs::is_regular_file(p)) p = s.kernel_source_dir_for(t.kver) / "scripts/sign-file";
    return p;
}

namespace {

[[noreturn]] void throw_half_pair(const MokPaths& mok, bool have_key) {
    const std::string present = have_key ? mok.key : mok.cert.string();
    const std::string missing = have_key ? mok.cert.string() : mok.key;
    const char* what_missing = have_key ? "certificate" : "signing key";
    throw Error(ExitCode::Error,
                {std::string("The MOK ") + (have_key ? "signing key " : "certificate ") + present + " exists, but its " +
                     what_missing + " " + missing + " is missing.",
                 "dkms-run does not generate a new pair over the remaining half, since the certificate may "
                 "already be enrolled.",
                 std::string("Restore ") + missing + " from a backup, or, to start over with a new pair, remove " +
                     present + " and run 'dkms-run generate_mok' (the new certificate must then be enrolled: "
                     "mokutil --import " + mok.cert.string() + ")."});
}

}  // namespace

namespace {

// dkms's words when a pair cannot be made (stdout, as its prepare_mok echoes them); then nothing is signed.
MokState cannot_generate(const Context& ctx, const std::string& what, const std::string& path) {
    ctx.report.out(what + " " + path + " not found and can't be generated, modules won't be signed");
    return MokState::Unavailable;
}

}  // namespace

MokState ensure_mok(const Context& ctx, const MokPaths& mok) {
    bool pkcs11 = mok.key.rfind("pkcs11:", 0) == 0;
    bool have_key = pkcs11 || fs::exists(mok.key), have_cert = fs::exists(mok.cert);
    if (have_key && have_cert) return MokState::Present;
    if (pkcs11) return cannot_generate(ctx, "Certificate file", mok.cert.string());
    // Only dkms's own directory is made when missing: a key configured in a directory that does not
    // exist (a typo in framework.conf) must not silently become a new, unenrolled pair.
    const fs::path key_dir = fs::path(mok.key).parent_path(), cert_dir = mok.cert.parent_path();
    std::error_code ec;
    for (const fs::path& d : {key_dir, cert_dir})
        if (d == ctx.settings.root / "var/lib/dkms") fs::create_directories(d, ec);
    if (!dir_exists(key_dir) || !dir_exists(cert_dir)) {
        ctx.report.out("Certificate or key are missing, generating self signed certificate for MOK...");
        if (!have_key && !dir_exists(key_dir)) return cannot_generate(ctx, "Key file", mok.key);
        return cannot_generate(ctx, "Certificate file", mok.cert.string());
    }
    if (have_key != have_cert) throw_half_pair(mok, have_key);
    // One generator at a time; the one that waited finds the pair made and uses it.
    DirLock lock(key_dir);
    have_key = fs::exists(mok.key);
    have_cert = fs::exists(mok.cert);
    if (have_key && have_cert) return MokState::Present;
    if (have_key != have_cert) {
        // Half a pair appeared while we waited for the lock: someone who does not take it is writing one.
        if (wait_for_pair(mok)) return MokState::Present;
        throw_half_pair(mok, fs::exists(mok.key));
    }
    ctx.report.out("Certificate or key are missing, generating self signed certificate for MOK...");
    if (find_program("openssl").empty()) {
        ctx.report.out("openssl not found, can't generate key and certificate.");
        return MokState::Unavailable;
    }
    // Both halves are made under temporary names, removed whatever happens unless linked into place.
    auto key_tmp = temp_beside(mok.key), cert_tmp = temp_beside(mok.cert);
    ProcessSpec p;
    p.argv = {"openssl", "req", "-new", "-x509", "-nodes", "-days", "36500", "-subj", "/CN=DKMS module signing key",
              "-newkey", "rsa:2048", "-keyout", key_tmp->path().string(), "-addext", "extendedKeyUsage=codeSigning",
              "-outform", "DER", "-out", cert_tmp->path().string()};
    p.out = ProcessSpec::Out::Capture;
    p.err_to_out = true;
    ProcessResult r = run_process(ctx, p);
    struct stat st{};
    if (!r.ok() || stat(key_tmp->path().c_str(), &st) != 0 || st.st_size == 0 ||
        stat(cert_tmp->path().c_str(), &st) != 0 || st.st_size == 0) {
        // dkms hides openssl's messages; they are the only clue to what went wrong, so they go to stderr.
        for (size_t i = 0, j; i < r.out.size(); i = j + 1) {
            j = r.out.find('\n', i);
            if (j == std::string::npos) j = r.out.size();
            if (j > i) ctx.report.err("openssl: " + r.out.substr(i, j - i));
        }
        return cannot_generate(ctx, "Key file", mok.key);
    }
    chmod(key_tmp->path().c_str(), 0600);
    chmod(cert_tmp->path().c_str(), 0644);
    bool made = false;
    if (link_into_place(key_tmp->path(), mok.key)) {
        // Never leave one half of a pair we made; a certificate that is not ours: our key is no half of it.
        ScopeGuard drop_key([&] { fs::remove(mok.key, ec); });
        made = link_into_place(cert_tmp->path(), mok.cert);
        if (made) drop_key.dismiss();
    }
    if (made) return MokState::Generated;
    // EEXIST: another generator (not taking our lock) got there first. Its pair is the one to use.
    if (wait_for_pair(mok)) return MokState::Present;
    throw_half_pair(mok, fs::exists(mok.key));
}

namespace {

std::optional<std::string> slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream o;
    o << in.rdbuf();
    return o.str();
}

}  // namespace

bool running_in_chroot(const fs::path& proc) {
    auto env = [](const char* n) { const char* v = getenv(n); return std::string(v ? v : ""); };
    if (env("FAKECHROOT") == "true" && getenv("FAKECHROOT_BASE") &&
        env("LD_PRELOAD").find("libfakechroot.so") != std::string::npos)
        return true;
    // Our view of the mounts differs from init's (works without root, and where /proc/1/root cannot be stat'ed).
    auto init_mounts = slurp(proc / "1/mountinfo"), our_mounts = slurp(proc / "self/mountinfo");
    if (init_mounts && our_mounts && *init_mounts != *our_mounts) return true;
    if (getuid() != 0) return false;
    // As root: init's root directory is not ours. dkms compares stat's output, so a /proc/1/root
    // that cannot be stat'ed (some containers and VMs) counts as a chroot too.
    struct stat init_root{}, our_root{};
    if (stat((proc / "1/root").c_str(), &init_root) != 0) return true;
    if (stat("/", &our_root) != 0) return false;
    return init_root.st_dev != our_root.st_dev || init_root.st_ino != our_root.st_ino;
}

bool secure_boot_enabled(const fs::path& efivars) {
    // efivarfs: 4 bytes of attributes, then the variable's value (one byte, 1 = on).
    auto v = slurp(efivars / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
    return v && v->size() >= 5 && (*v)[4] == 1;
}

SigningPlan prepare_signing(const Context& ctx, const Target& t) {
    const Settings& s = ctx.settings;
    Reporter& r = ctx.report;
    SigningPlan plan;
    SigningSettings ss = read_signing_settings(s, t);
    MokPaths configured = mok_paths(s, ss);
    plan.mok_key = configured.key;
    plan.mok_cert = configured.cert;
    std::string policy = ss.try_sign_modules.empty() ? "not_in_chroot" : ss.try_sign_modules;
    if (policy != "true" && policy != "false" && policy != "not_in_chroot") {
        r.warning("try_sign_modules='" + policy + "' in framework.conf is not true, false or not_in_chroot; "
                  "using not_in_chroot.");
        policy = "not_in_chroot";
    }
    if (policy == "false") {
        r.out("Module signing is disabled by policy, modules won't be signed");
        return plan;
    }
    if (policy == "not_in_chroot" && running_in_chroot()) {
        r.out("Running in chroot, modules won't be signed");
        return plan;
    }
    fs::path kconfig = kernel_config_path(s, t.kver);
    if (kconfig.empty() || !fs::exists(kconfig)) {
        fs::path shown = kconfig.empty() ? s.kernel_source_dir_for(t.kver) / ".config" : kconfig;
        r.out("Kernel config " + shown.string() + " not found, modules won't be signed");
        return plan;
    }
    const std::set<std::string> wanted{"CONFIG_MODULE_SIG_HASH"};
    KernelConfig kc = read_kernel_config(kconfig, &wanted);
    auto h = kc.find("CONFIG_MODULE_SIG_HASH");
    if (h == kc.end() || h->second.empty()) {
        r.out("The kernel is built without module signing facility, modules won't be signed");
        return plan;
    }
    plan.hash = h->second;
    plan.sign_file = find_sign_file(s, t, ss);
    r.out("Sign command: " + plan.sign_file.string());
    if (!fs::is_regular_file(plan.sign_file) || access(plan.sign_file.c_str(), X_OK) != 0) {
        r.out("Binary " + plan.sign_file.string() + " not found, modules won't be signed");
        return plan;
    }
    MokPaths mok = mok_paths(s, ss);
    r.out("Signing key: " + shown_key(mok.key));
    r.out("Public certificate (MOK): " + mok.cert.string());
    try {
        if (ensure_mok(ctx, mok) == MokState::Unavailable) return plan;
    } catch (const Error& e) {
        bool first = true;
        for (auto& l : e.lines()) {
            r.err(first ? "Warning: " + l : l);
            first = false;
        }
        r.err("Modules won't be signed.");
        return plan;
    }
    plan.key = mok.key;
    plan.cert = mok.cert;
    plan.enabled = true;
    report_mok_enrolment(ctx, plan.cert);
    return plan;
}

std::optional<AppendedSignature> find_appended_signature(std::string_view img, std::string* why) {
    auto fail = [&](std::string w) -> std::optional<AppendedSignature> {
        if (why) *why = std::move(w);
        return std::nullopt;
    };
    if (img.size() < sig_marker.size() || img.substr(img.size() - sig_marker.size()) != sig_marker)
        return fail("no '~Module signature appended~' marker at the end of the module");
    if (img.size() < sig_marker.size() + sig_struct_size) return fail("the signature header is truncated");
    const auto* h = reinterpret_cast<const unsigned char*>(img.data() + img.size() - sig_marker.size() - sig_struct_size);
    unsigned id_type = h[2];
    uint32_t sig_len = (uint32_t(h[8]) << 24) | (uint32_t(h[9]) << 16) | (uint32_t(h[10]) << 8) | uint32_t(h[11]);
    if (id_type != pkey_id_pkcs7) return fail("the signature is of type " + std::to_string(id_type) + ", not PKCS#7");
    size_t tail = sig_marker.size() + sig_struct_size;
    if (sig_len == 0 || sig_len > img.size() - tail) return fail("the signature length " + std::to_string(sig_len) +
                                                                  " does not fit in the module");
    AppendedSignature a;
    a.content = img.substr(0, img.size() - tail - sig_len);
    a.pkcs7 = img.substr(img.size() - tail - sig_len, sig_len);
    return a;
}

std::string verify_appended_signature(std::string_view img, const fs::path& cert_path) {
    std::string why;
    auto sig = find_appended_signature(img, &why);
    if (!sig) return why;
    std::string cert_bytes;
    try {
        cert_bytes = read_file(cert_path);
    } catch (const Error& e) {
        return e.what();
    }
    using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
    const auto* cp = reinterpret_cast<const unsigned char*>(cert_bytes.data());
    std::unique_ptr<X509, decltype(&X509_free)> cert(libcrypto().d2i_X509(nullptr, &cp, long(cert_bytes.size())), libcrypto().X509_free);
    if (!cert) {
        libcrypto().ERR_clear_error();
        BioPtr b(libcrypto().BIO_new_mem_buf(cert_bytes.data(), int(cert_bytes.size())), libcrypto().BIO_free);
        cert.reset(libcrypto().PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    }
    if (!cert) return "cannot read the certificate " + cert_path.string() + ": " + openssl_error();
    BioPtr sb(libcrypto().BIO_new_mem_buf(sig->pkcs7.data(), int(sig->pkcs7.size())), libcrypto().BIO_free);
    std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(libcrypto().d2i_CMS_bio(sb.get(), nullptr),
                                                                          libcrypto().CMS_ContentInfo_free);
    if (!cms) return "the appended signature is not valid PKCS#7: " + openssl_error();
    // sk_X509_new_null, sk_X509_push and sk_X509_free are OpenSSL's macros over these.
    std::unique_ptr<OPENSSL_STACK, void (*)(OPENSSL_STACK*)> certs(libcrypto().OPENSSL_sk_new_null(),
                                                                 [](OPENSSL_STACK* s) { libcrypto().OPENSSL_sk_free(s); });
    libcrypto().OPENSSL_sk_push(certs.get(), cert.get());
    BioPtr content(libcrypto().BIO_new_mem_buf(sig->content.data(), int(sig->content.size())), libcrypto().BIO_free);
    int ok = libcrypto().CMS_verify(cms.get(), reinterpret_cast<STACK_OF(X509)*>(certs.get()), nullptr, content.get(), nullptr,
                        CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY);
    if (ok != 1) return "the signature does not verify against " + cert_path.string() + ": " + openssl_error();
    return "";
}

std::optional<fs::path> key_directory_to_hide(const fs::path& file, const std::vector<fs::path>& needed) {
    const fs::path dir = file.parent_path();
    if (std::distance(dir.begin(), dir.end()) < 3) return std::nullopt;  // "/", "a", "b": /a/b at least
    for (const fs::path& n : needed)
        if (path_within(dir, n) || path_within(n, dir)) return std::nullopt;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
        if (ec) return std::nullopt;
        fs::file_type type = it->symlink_status(ec).type();
        if (ec || (type != fs::file_type::regular && type != fs::file_type::symlink)) return std::nullopt;
    }
    if (ec) return std::nullopt;
    return dir;
}

void sign_module(const Context& ctx, const SigningPlan& plan, const fs::path& ko) {
    if (!plan.enabled) return;
    ctx.report.out("Signing module " + ko.string());
    ProcessSpec p;
    p.argv = {plan.sign_file.string(), plan.hash, plan.key, plan.cert.string(), ko.string()};
    p.out = ProcessSpec::Out::Capture;
    p.err_to_out = true;
    ProcessResult r = run_process(ctx, p);
    if (!r.ok()) {
        ctx.report.warning("Failed to sign module '" + ko.string() + "'!");
        // dkms's warn prints sign-file's output (trailing newlines dropped) as one more line, empty or not.
        std::string said = r.out;
        while (!said.empty() && said.back() == '\n') said.pop_back();
        for (size_t i = 0, j; i <= said.size(); i = j + 1) {
            j = said.find('\n', i);
            if (j == std::string::npos) j = said.size();
            ctx.report.err(said.substr(i, j - i));
        }
        // The kernel's sign-file built with OpenSSL 3 (Debian 12's linux-kbuild) opens a pkcs11: key only
        // through OpenSSL's pkcs11 provider, never through the old engine (libengine-pkcs11-openssl).
        if (plan.key.rfind("pkcs11:", 0) == 0 && r.out.find("OSSL_PROVIDER_try_load(pkcs11)") != std::string::npos)
            ctx.report.err("The signing key is a PKCS#11 URI, which " + plan.sign_file.string() +
                           " opens through OpenSSL's pkcs11 provider, and that could not be loaded: install the "
                           "package pkcs11-provider (on Debian 12, from bookworm-backports) and configure the "
                           "token's PKCS#11 module for it in openssl.cnf.");
        return;
    }
    std::string why = verify_appended_signature(read_file(ko), plan.cert);
    if (!why.empty())
        throw Error(ExitCode::BuildFailed,
                    {"Signing module " + ko.string() + " did not leave a valid signature: " + why + ".",
                     "Sign command: " + plan.sign_file.string() + " " + plan.hash + " " + shown_key(plan.key) + " " +
                         plan.cert.string(),
                     "Check sign_file, mok_signing_key and mok_certificate in " +
                         (ctx.settings.etc_dkms() / "framework.conf").string() +
                         ": sign_file must be the kernel's scripts/sign-file and the key and certificate a pair."});
}

std::vector<std::string> mok_enrolment_notice(const std::optional<std::string>& mokutil_said, const fs::path& cert) {
    const std::string c = cert.string(), enrol = "mokutil --import " + c + " (then reboot and confirm in MokManager)";
    if (!mokutil_said)
        return {"Secure Boot is on, and mokutil is not installed to check whether " + c + " is enrolled.",
                "Modules signed with it load only once it is enrolled: " + enrol + "."};
    const std::string& out = *mokutil_said;
    if (out.find("is already enrolled") != std::string::npos) return {};
    if (out.find("already in the enrollment request") != std::string::npos)
        return {"The MOK certificate " + c +
                " is waiting to be enrolled: reboot and confirm the enrolment in MokManager."};
    if (out.find("is not enrolled") != std::string::npos)
        return {"The MOK certificate " + c +
                    " is not enrolled: with Secure Boot on, modules signed with it will not load.",
                "Enrol it with: " + enrol + "."};
    return {"Could not check whether " + c + " is enrolled (mokutil: " + out.substr(0, out.find('\n')) + ").",
            "Secure Boot is on: enrol it with: " + enrol + "."};
}

void report_mok_enrolment(const Context& ctx, const fs::path& cert) {
    // dkms says nothing about enrolment; a notice is only worth it where an unenrolled key stops
    // modules from loading, and a --root tree is not the machine whose firmware is asked.
    if (ctx.settings.root.lexically_normal() != "/" || !secure_boot_enabled()) return;
    // Once per process (one dkms-run transaction), however many kernels and modules are signed.
    static std::mutex mu;  // autoinstall signs from several threads
    static std::set<std::string> reported;
    {
        std::lock_guard<std::mutex> g(mu);
        if (!reported.insert(cert.string()).second) return;
    }
    std::optional<std::string> said;
    if (!find_program("mokutil").empty()) {
        ProcessSpec p;
        p.argv = {"mokutil", "--test-key", cert.string()};
        p.out = ProcessSpec::Out::Capture;
        p.err_to_out = true;
        said = run_process(ctx, p).out;
    }
    for (auto& line : mok_enrolment_notice(said, cert)) ctx.report.out(line);
}

}  // namespace dkms
