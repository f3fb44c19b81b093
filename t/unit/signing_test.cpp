// SPDX-License-Identifier: GPL-2.0-or-later
// Signing helpers that need no kernel: how a signing key is shown, Secure Boot, the chroot test,
// the enrolment notice.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "dkms/ops/signing.hpp"
#include "support.hpp"

using namespace dkms;

TEST_CASE("shown_key hides the PIN of a pkcs11: URI, in the query or the path", "[signing]") {
    CHECK(shown_key("pkcs11:token=t;object=k;type=private?pin-value=1234") ==
          "pkcs11:token=t;object=k;type=private?pin-value=(hidden)");
    CHECK(shown_key("pkcs11:token=t;pin-value=1234;object=k") == "pkcs11:token=t;pin-value=(hidden);object=k");
    CHECK(shown_key("pkcs11:pin-value=1?module-name=softhsm2&pin-value=2") ==
          "pkcs11:pin-value=(hidden)?module-name=softhsm2&pin-value=(hidden)");
    CHECK(shown_key("pkcs11:token=t?pin-source=file:/etc/pin") == "pkcs11:token=t?pin-source=file:/etc/pin");
}

TEST_CASE("shown_key leaves key files and lookalike attributes alone", "[signing]") {
    CHECK(shown_key("/var/lib/dkms/mok.key") == "/var/lib/dkms/mok.key");
    CHECK(shown_key("/keys/pin-value=1234.pem") == "/keys/pin-value=1234.pem");
    CHECK(shown_key("pkcs11:object=xpin-value=1") == "pkcs11:object=xpin-value=1");
}

namespace {

// A fresh directory under TMPDIR, removed at the end of the test.
struct ScratchDir {
    fs::path path;
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "signing-test.XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~ScratchDir() { fs::remove_all(path); }
    void write(const fs::path& rel, const std::string& bytes) const {
        fs::create_directories((path / rel).parent_path());
        std::ofstream(path / rel, std::ios::binary) << bytes;
    }
};

}  // namespace

TEST_CASE("secure_boot_enabled reads the EFI variable SecureBoot (4 attribute bytes, then the value)", "[signing]") {
    ScratchDir d;
    const std::string var = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";
    CHECK_FALSE(secure_boot_enabled(d.path));  // no EFI (a BIOS machine, a container)
    d.write(var, std::string("\x06\x00\x00\x00\x01", 5));
    CHECK(secure_boot_enabled(d.path));
    d.write(var, std::string("\x06\x00\x00\x00\x00", 5));
    CHECK_FALSE(secure_boot_enabled(d.path));
    d.write(var, std::string("\x06\x00\x00", 3));
    CHECK_FALSE(secure_boot_enabled(d.path));
}

TEST_CASE("running_in_chroot: mounts that differ from init's mean a chroot, as in dkms 3.4", "[signing]") {
    ScratchDir proc;
    proc.write("1/mountinfo", "22 27 0:21 / /proc rw - proc proc rw\n");
    proc.write("self/mountinfo", "22 27 0:21 / /proc rw - proc proc rw\n23 27 0:22 / /mnt rw - tmpfs none rw\n");
    CHECK(running_in_chroot(proc.path));
    // The same mounts: then init's root directory decides (as root); here proc/1/root does not
    // exist, which dkms (comparing stat's output) takes for a chroot too.
    proc.write("self/mountinfo", "22 27 0:21 / /proc rw - proc proc rw\n");
    if (getuid() == 0) {
        CHECK(running_in_chroot(proc.path));
        fs::create_directory_symlink("/", proc.path / "1/root");
        CHECK_FALSE(running_in_chroot(proc.path));
    } else {
        CHECK_FALSE(running_in_chroot(proc.path));
    }
}

TEST_CASE("mok_enrolment_notice: nothing once enrolled, the way to enrol otherwise", "[signing]") {
    const fs::path cert = "/var/lib/dkms/mok.pub";
    CHECK(mok_enrolment_notice(std::string("/var/lib/dkms/mok.pub is already enrolled\n"), cert).empty());
    auto no_mokutil = mok_enrolment_notice(std::nullopt, cert);
    REQUIRE(no_mokutil.size() == 2);
    CHECK(no_mokutil[1] == "Modules signed with it load only once it is enrolled: mokutil --import "
                           "/var/lib/dkms/mok.pub (then reboot and confirm in MokManager).");
    auto not_enrolled = mok_enrolment_notice(std::string("/var/lib/dkms/mok.pub is not enrolled\n"), cert);
    REQUIRE(not_enrolled.size() == 2);
    CHECK(not_enrolled[0] == "The MOK certificate /var/lib/dkms/mok.pub is not enrolled: with Secure Boot on, "
                             "modules signed with it will not load.");
    auto waiting = mok_enrolment_notice(std::string("/var/lib/dkms/mok.pub is already in the enrollment request\n"), cert);
    CHECK(waiting.size() == 1);
    auto odd = mok_enrolment_notice(std::string("EFI variables are not supported on this system\n"), cert);
    REQUIRE(odd.size() == 2);
    CHECK(odd[0] == "Could not check whether /var/lib/dkms/mok.pub is enrolled (mokutil: EFI variables are not "
                    "supported on this system).");
}

namespace {

/// What prepare_signing says (stdout lines, then stderr lines) with `try_sign_modules=<value>` in
/// framework.conf, for a kernel that has module signing (CONFIG_MODULE_SIG_HASH) but no sign-file.
std::pair<std::vector<std::string>, std::vector<std::string>> signing_said(const std::string& value) {
    dkms::test::FakeRoot r;
    const Target t{"6.1.0-9-amd64", "x86_64"};
    r.add_kernel(t.kver, "CONFIG_MODULES=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n");
    dkms::test::FakeRoot::write(r.settings.etc_dkms() / "framework.conf", "try_sign_modules=" + value + "\n");
    SigningPlan plan = prepare_signing(r.ctx, t);
    CHECK_FALSE(plan.enabled);  // no sign-file in this root
    auto rooted = [&](std::vector<std::string> lines) {
        for (auto& l : lines)
            if (auto at = l.find(r.path().string()); at != std::string::npos)
                l.replace(at, r.path().string().size(), "@ROOT@");
        return lines;
    };
    return {rooted(r.report.out_lines), rooted(r.report.err_lines)};
}

}  // namespace

TEST_CASE("try_sign_modules: only false disables signing; other values are not_in_chroot, as in dkms 3.4",
          "[signing]") {
    using Lines = std::vector<std::string>;
    // Not in a chroot the kernel's signing facility is looked at next; in one, nothing is signed.
    const Lines looked_further{"Sign command: @ROOT@/lib/modules/6.1.0-9-amd64/build/scripts/sign-file",
                               "Binary @ROOT@/lib/modules/6.1.0-9-amd64/build/scripts/sign-file not found, modules "
                               "won't be signed"};
    const Lines in_chroot{"Running in chroot, modules won't be signed"};
    const Lines not_in_chroot = running_in_chroot() ? in_chroot : looked_further;

    CHECK(signing_said("false") ==
          std::pair{Lines{"Module signing is disabled by policy, modules won't be signed"}, Lines{}});
    CHECK(signing_said("true") == std::pair{looked_further, Lines{}});
    CHECK(signing_said("not_in_chroot") == std::pair{not_in_chroot, Lines{}});
    CHECK(signing_said("") == std::pair{not_in_chroot, Lines{}});  // unset: the default
    // Anything else is neither true nor false: dkms 3.4 tests only for "false" (disable) and "true"
    // (sign in a chroot too); dkms-run says so and goes on as not_in_chroot.
    for (std::string v : {"yes", "1", "no", "0", "False", "FALSE", "off", "disabled", "maybe later"}) {
        INFO("try_sign_modules=" << v);
        std::string quoted = v.find(' ') == std::string::npos ? v : "'" + v + "'";
        CHECK(signing_said(quoted) ==
              std::pair{not_in_chroot, Lines{"Warning: try_sign_modules='" + v +
                                             "' in framework.conf is not true, false or not_in_chroot; using "
                                             "not_in_chroot."}});
    }
}

TEST_CASE("key_directory_to_hide: a key's own directory, never one the build needs or a system one", "[signing]") {
    ScratchDir d;
    const fs::path root = fs::canonical(d.path);
    d.write("keys/mok.key", "key");
    d.write("keys/mok.key.bak", "a copy");
    fs::create_symlink("mok.key", root / "keys/current.key");
    d.write("dkms/mok.key", "key");
    d.write("dkms/foo/1.0/source", "module");
    d.write("tools/mok.key", "key");
    d.write("tools/bin/cc", "compiler");
    const std::vector<fs::path> needed{root / "dkms", root / "src", root / "headers/build"};
    // Files and links only, apart from everything needed: hidden whole.
    CHECK(key_directory_to_hide(root / "keys/mok.key", needed) == root / "keys");
    // The dkms tree itself (the default /var/lib/dkms/mok.key), or inside or around a needed path: not.
    CHECK_FALSE(key_directory_to_hide(root / "dkms/mok.key", needed));
    d.write("headers/build/certs/signing_key.pem", "key");
    CHECK_FALSE(key_directory_to_hide(root / "headers/build/certs/signing_key.pem", needed));
    CHECK_FALSE(key_directory_to_hide(root / "headers/signing_key.pem", needed));
    // A directory with a subdirectory is not a key's directory (a toolchain beside its key): not.
    CHECK_FALSE(key_directory_to_hide(root / "tools/mok.key", needed));
    // Not / or a directory right under it (/etc, /root), and not a directory that is not there.
    CHECK_FALSE(key_directory_to_hide("/mok.key", {}));
    CHECK_FALSE(key_directory_to_hide("/etc/mok.key", {}));
    CHECK_FALSE(key_directory_to_hide(root / "missing/mok.key", needed));
    // The same directory with nothing needed anywhere near it is hidden (the rules above are what refused).
    CHECK(key_directory_to_hide(root / "dkms/mok.key", {}) == std::nullopt);  // a subdirectory: foo/
    CHECK(key_directory_to_hide(root / "headers/build/certs/signing_key.pem", {}) == root / "headers/build/certs");
}
