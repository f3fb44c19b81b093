// SPDX-License-Identifier: GPL-2.0-or-later
// Secure Boot module signing: the MOK key pair, the kernel's sign-file, and checking the result.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkms/core/context.hpp"

namespace dkms {

namespace fs = std::filesystem;

/// What signing will do for one kernel, decided once per kernel/arch.
struct SigningPlan {
    bool enabled = false;   ///< false: modules are installed unsigned (the reason was reported)
    fs::path sign_file;     ///< the kernel's scripts/sign-file
    std::string hash;       ///< CONFIG_MODULE_SIG_HASH, e.g. "sha256"
    std::string key;        ///< private key file, or a "pkcs11:" URI
    fs::path cert;          ///< public certificate (DER or PEM)
    /// The configured pair whether or not it is used (signing off, not yet generated): what the
    /// build steps must not see (docs/confinement.md).
    std::string mok_key;
    fs::path mok_cert;
};

/// The MOK pair as configured: framework.conf's mok_signing_key / mok_certificate, read for
/// one kernel (so that $kernelver may be used), defaulting to <root>/var/lib/dkms/mok.{key,pub}.
struct MokPaths {
    std::string key;
    fs::path cert;
};

/// `key` as it may be shown: the value of a "pkcs11:" URI's pin-value attribute (RFC 7512) is
/// replaced by "(hidden)", so that the PIN does not end up on screen or in apt's logs.
std::string shown_key(std::string_view key);

/// The signing settings of framework.conf(.d), evaluated with `kernelver` and `arch` set.
struct SigningSettings {
    std::string sign_file, mok_signing_key, mok_certificate, try_sign_modules;
};
SigningSettings read_signing_settings(const Settings& s, const Target& t);

/// The key pair to use (defaults applied).
MokPaths mok_paths(const Settings& s, const SigningSettings& ss);

/// The sign-file to use for a kernel: framework.conf's sign_file if set, else Debian's
/// <root>/usr/lib/linux-kbuild-<major.minor>/scripts/sign-file, else the headers' scripts/sign-file.
fs::path find_sign_file(const Settings& s, const Target& t, const SigningSettings& ss);

/// What ensure_mok found or did.
enum class MokState {
    Present,      ///< the pair was there
    Generated,    ///< a new pair was made
    Unavailable,  ///< no pair and none can be made; dkms's "... not found and can't be generated" was printed
};

/// Make sure the MOK pair exists. Both halves missing: a new pair is generated (key mode 0600,
/// certificate in DER with extendedKeyUsage codeSigning). One half missing: Error naming the
/// missing file and the way out; nothing is generated or overwritten. A "pkcs11:" key is never
/// generated; only its certificate must exist. Directories are never made, except dkms's own
/// <root>/var/lib/dkms: a pair configured in a directory that does not exist is Unavailable.
/// Safe against concurrent callers (threads, other dkms-run processes): generation holds an
/// flock on the key's directory, and whoever waited for it finds the pair complete and uses it
/// (Present); a pair that appears anyway is never overwritten (link(2) without clobbering).
MokState ensure_mok(const Context& ctx, const MokPaths& mok);

/// Decide whether and how to sign for this kernel and print dkms 3.4's prologue
/// ("Sign command: ...", "Signing key: ...", "Public certificate (MOK): ...") or the reason
/// modules will not be signed. Generates the MOK when both halves are missing.
SigningPlan prepare_signing(const Context& ctx, const Target& t);

/// The directory of a signing file (`file`, canonical) that the build sandbox hides whole, besides the
/// file itself (docs/confinement.md): a directory that holds nothing but files and links (a key's
/// directory, such as /var/lib/shim-signed/mok, with whatever copies sit beside the key), at least two
/// levels below /, and neither inside nor around any of `needed` (canonical: the trees, the headers,
/// the build directories, PATH), whose contents the steps may need. Else none: the files alone are
/// hidden.
std::optional<fs::path> key_directory_to_hide(const fs::path& file, const std::vector<fs::path>& needed);

/// Sign `ko` in place with the plan's sign-file, then check the appended signature against the
/// certificate. A failing sign-file is a warning (as in dkms 3.4: the module stays unsigned);
/// a sign-file that succeeds without leaving a valid signature is an Error.
void sign_module(const Context& ctx, const SigningPlan& plan, const fs::path& ko);

/// The signature appended to a module image: "~Module signature appended~\n" preceded by
/// struct module_signature and the PKCS#7 blob. Empty optional when there is none;
/// `why` (if given) receives the reason.
struct AppendedSignature {
    std::string_view content;   ///< the module bytes that were signed
    std::string_view pkcs7;     ///< DER-encoded PKCS#7/CMS signature
};
std::optional<AppendedSignature> find_appended_signature(std::string_view image, std::string* why = nullptr);

/// Verify an appended signature against a certificate (DER or PEM). Returns "" when valid, else why not.
std::string verify_appended_signature(std::string_view image, const fs::path& cert);

/// On a machine with Secure Boot on, tell the user, once per process (and thread-safely), that `cert`
/// is not enrolled as a MOK (mokutil --test-key) and how to enrol it, or that it cannot be checked
/// without mokutil. Says nothing when it is enrolled, without Secure Boot, or under --root (as dkms
/// says nothing at all). Never enrols anything.
void report_mok_enrolment(const Context& ctx, const fs::path& cert);

/// The notice report_mok_enrolment prints with Secure Boot on, given what `mokutil --test-key`
/// said (nullopt: mokutil is not installed). Empty when the certificate is enrolled.
std::vector<std::string> mok_enrolment_notice(const std::optional<std::string>& mokutil_said, const fs::path& cert);

/// Whether the EFI variable SecureBoot in `efivars` (efivarfs) says Secure Boot is on.
bool secure_boot_enabled(const fs::path& efivars = "/sys/firmware/efi/efivars");

/// dkms 3.4's running_in_chroot, for try_sign_modules=not_in_chroot: fakechroot in the environment,
/// or `proc`/1/mountinfo differing from `proc`/self/mountinfo, or (as root) `proc`/1/root not the
/// same directory as "/", or not stat-able at all.
bool running_in_chroot(const fs::path& proc = "/proc");

}  // namespace dkms
