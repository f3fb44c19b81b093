// SPDX-License-Identifier: GPL-2.0-or-later
// doctor, one check at a time, in temporary roots: each test compares the whole list of problems.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "dkms/ops/doctor.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/tree/outcome.hpp"
#include "dkms/tree/tree.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

const std::string K1 = "6.1.0-9-amd64", K2 = "6.1.0-10-amd64";
const std::string A = "x86_64";

struct DoctorFixture : FakeRoot {
    Tree tree{settings};
    DoctorProbes probes;
    std::optional<bool> secure_boot;  // what the probe says
    std::optional<std::string> mokutil_said;

    DoctorFixture() {
        probes.arch = A;
        probes.now = 1765038494;  // 2025-12-06
        probes.secure_boot = [this] { return secure_boot; };
        probes.mokutil_test_key = [this](const fs::path&) { return mokutil_said; };
    }
    fs::path r(const std::string& rel) const { return path() / rel; }

    /// An installed kernel (modules.dep) with complete headers.
    void kernel(const std::string& k) {
        fs::path b = add_kernel(k);
        write(b / "include/generated/autoconf.h", "");
        write(b / "include/generated/utsrelease.h", "");
        write(b / "scripts/Makefile.modpost", "");
        write(settings.install_tree / k / "modules.dep", "");
    }
    /// m/v added, its source in <source_tree>/<m>-<v>.
    void module(const std::string& m, const std::string& v, const std::string& extra = "AUTOINSTALL=yes\n") {
        ModuleId id{m, v};
        fs::path src = tree.source_dir(id);
        write(src / "dkms.conf", "PACKAGE_NAME=" + m + "\nPACKAGE_VERSION=" + v + "\nBUILT_MODULE_NAME[0]=" + m +
                                     "\nDEST_MODULE_LOCATION[0]=/updates/dkms\n" + extra);
        fs::create_directories(tree.version_dir(id));
        fs::create_symlink(src, tree.source_link(id));
    }
    /// m/v built for k (module/<m>.ko and, with `manifest`, its manifest).
    fs::path build(const std::string& m, const std::string& v, const std::string& k, bool manifest = true) {
        ModuleId id{m, v};
        fs::path ko = tree.built_dir(id, {k, A}) / "module" / (m + ".ko");
        write(ko, "ELF of " + m + " " + v + "\n");
        if (manifest) {
            Manifest man;
            man.module = m, man.version = v, man.kernel = k, man.arch = A;
            man.files.push_back({m + ".ko", sha256_file(ko), ""});
            write_manifest(tree.built_dir(id, {k, A}), man);
        }
        return ko;
    }
    /// m/v built and installed for k into updates/dkms; returns the installed file.
    fs::path install(const std::string& m, const std::string& v, const std::string& k, bool manifest = true) {
        ModuleId id{m, v};
        fs::path ko = build(m, v, k, manifest);
        fs::path dst = settings.install_tree / k / "updates/dkms" / (m + ".ko");
        fs::create_directories(dst.parent_path());
        fs::copy_file(ko, dst, fs::copy_options::overwrite_existing);
        if (manifest) {
            Manifest man;
            read_manifest(tree.built_dir(id, {k, A}), man);
            man.files[0].installed_to = dst.string();
            write_manifest(tree.built_dir(id, {k, A}), man);
        }
        fs::path link = tree.installed_link(m, {k, A});
        fs::remove(link);
        fs::create_symlink(fs::path(v) / k / A, link);
        return dst;
    }
    std::vector<std::string> run() const {
        std::vector<std::string> out;
        for (auto& p : doctor(ctx, probes)) out.push_back(p.kind + " | " + p.text + " | " + p.fix);
        return out;
    }
    void openssl(const std::vector<std::string>& args) const {
        ProcessSpec p;
        p.argv = {"openssl"};
        p.argv.insert(p.argv.end(), args.begin(), args.end());
        p.out = ProcessSpec::Out::Null;
        p.err = ProcessSpec::Out::Null;
        REQUIRE(run_process(p).ok());
    }
    /// A MOK pair at the default place (<root>/var/lib/dkms/mok.{key,pub}), valid for `days` from today.
    void mok(int days = 3650) const {
        openssl({"req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", std::to_string(days), "-subj",
                 "/CN=dkms-run test/", "-outform", "DER", "-keyout", r("var/lib/dkms/mok.key").string(), "-out",
                 r("var/lib/dkms/mok.pub").string()});
        chmod(r("var/lib/dkms/mok.key").c_str(), 0600);
    }
    /// Every file and directory below the root with its size and mtime: doctor must change none.
    std::vector<std::string> snapshot() const {
        std::vector<std::string> out;
        for (auto it = fs::recursive_directory_iterator(path()); it != fs::recursive_directory_iterator(); ++it) {
            struct stat st {};
            lstat(it->path().c_str(), &st);
            out.push_back(it->path().string() + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtime) +
                          " " + std::to_string(st.st_mode));
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

}  // namespace

TEST_CASE("doctor: a machine where all is well has no problem", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.module("foo", "1.0");
    f.install("foo", "1.0", K1);
    f.module("manual", "2.0", "");  // not AUTOINSTALL: not built is fine
    f.mok();
    CHECK(f.run().empty());
}

TEST_CASE("doctor: kernels without headers, or with incomplete ones", "[doctor]") {
    DoctorFixture f;
    FakeRoot::write(f.settings.install_tree / K1 / "modules.dep", "");  // no build/
    FakeRoot::write(f.r("boot/vmlinuz-" + K2), "");                     // an image only
    f.kernel("6.1.0-11-amd64");
    fs::remove(f.settings.install_tree / "6.1.0-11-amd64/build/include/generated/autoconf.h");
    CHECK(f.run() == std::vector<std::string>{});  // nothing in the dkms tree: nothing to build, headers or not
    f.module("foo", "1.0");
    std::string b = f.settings.install_tree.string();
    CHECK(f.run() == std::vector<std::string>{
                         "headers | Kernel 6.1.0-9-amd64 has no headers (" + b +
                             "/6.1.0-9-amd64/build): no DKMS module can be built for it. | apt-get install "
                             "linux-headers-6.1.0-9-amd64",
                         "headers | Kernel 6.1.0-10-amd64 has no headers (" + b +
                             "/6.1.0-10-amd64/build): no DKMS module can be built for it. | apt-get install "
                             "linux-headers-6.1.0-10-amd64",
                         "headers | The headers of kernel 6.1.0-11-amd64 (" + b +
                             "/6.1.0-11-amd64/build) are incomplete: include/generated/autoconf.h missing. | apt-get "
                             "install --reinstall linux-headers-6.1.0-11-amd64 (and linux-kbuild for scripts/)"});
}

TEST_CASE("doctor: AUTOINSTALL modules not installed, with the last build's cause", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.kernel(K2);
    f.module("built", "1.0");
    f.build("built", "1.0", K1);
    f.install("built", "1.0", K2);
    f.module("failing", "3.5.1");
    BuildOutcome o;
    o.module = "failing", o.version = "3.5.1", o.kernel = K1, o.arch = A, o.result = "failed", o.exit_code = 10;
    o.cause = "kernel-api", o.step = "make";
    o.summary = "failing/3.5.1 does not compile against the API of kernel 6.1.0-9-amd64.";
    o.fix = "It needs a version of failing that supports kernel 6.1.0-9-amd64.";
    o.time = 1765038494;
    FakeRoot::write(f.tree.build_dir({"failing", "3.5.1"}) / "make.log", "log\n");
    write_build_outcome(f.tree, o, f.tree.build_dir({"failing", "3.5.1"}) / "make.log");
    f.module("newer", "0.9");
    f.install("newer", "0.9", K1);
    f.module("newer", "1.0");
    f.install("newer", "1.0", K2);
    f.module("excluded", "1.0", "AUTOINSTALL=yes\nBUILD_EXCLUSIVE_KERNEL=\"^5\\.\"\n");
    std::string log = (f.tree.version_dir({"failing", "3.5.1"}) / ".dkms-run-builds" / K1 / A / "make.log").string();
    CHECK(f.run() == std::vector<std::string>{
                         "not-installed | built/1.0 is built but not installed for kernel 6.1.0-9-amd64 (x86_64). | "
                         "dkms-run install built/1.0 -k 6.1.0-9-amd64",
                         "not-installed | failing/3.5.1 is not installed for kernel 6.1.0-9-amd64 (x86_64): its last "
                         "build failed (2025-12-06T16:28:14Z, kernel-api): failing/3.5.1 does not compile against the "
                         "API of kernel 6.1.0-9-amd64. | It needs a version of failing that supports kernel "
                         "6.1.0-9-amd64. The build's log: " +
                             log,
                         "not-installed | failing/3.5.1 is not built for kernel 6.1.0-10-amd64 (x86_64). | dkms-run "
                         "install failing/3.5.1 -k 6.1.0-10-amd64",
                         "not-installed | newer/1.0 is not built for kernel 6.1.0-9-amd64 (x86_64) (newer/0.9 is). | "
                         "dkms-run install newer/1.0 -k 6.1.0-9-amd64"});
}

TEST_CASE("doctor: a dkms.conf that cannot be read is one problem per version", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.kernel(K2);
    f.module("bad", "1.0");
    FakeRoot::write(f.tree.source_dir({"bad", "1.0"}) / "dkms.conf", "PACKAGE_NAME=bad\nAUTOINSTALL=yes\n");
    auto got = f.run();
    REQUIRE(got.size() == 1);
    std::string conf = f.tree.source_link({"bad", "1.0"}).string() + "/dkms.conf";
    CHECK(got[0] == "dkms-conf | The dkms.conf of bad/1.0 (" + conf +
                        ") cannot be read for kernel 6.1.0-9-amd64: Bad conf file. | Fix it, or reinstall the package "
                        "that provides bad/1.0.");
}

TEST_CASE("doctor: files in the install locations that nothing accounts for", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.module("foo", "1.0");
    f.install("foo", "1.0", K1);
    f.module("old", "1.0");
    f.install("old", "1.0", K1, false);  // installed by dkms itself: no manifest, its module/ accounts for it
    fs::path dkms_dir = f.settings.install_tree / K1 / "updates/dkms";
    FakeRoot::write(dkms_dir / "stray.ko", "x");
    FakeRoot::write(dkms_dir / "sub/stray2.ko.xz", "x");
    FakeRoot::write(dkms_dir / "README", "not a module");
    FakeRoot::write(dkms_dir / "pkg.ko", "from a binary module package");
    FakeRoot::write(f.r("var/lib/dpkg/info/pkg-modules-6.1.0-9-amd64.list"),
                    "/lib/modules/6.1.0-9-amd64/updates/dkms/pkg.ko\n");
    FakeRoot::write(dkms_dir / ".foo.ko.tmp-Ab12Cd", "half a copy");
    auto fix = [&](const std::string& p) {
        return "If no package owns it (dpkg -S " + p +
               "), remove it and run depmod 6.1.0-9-amd64; if it belongs to "
               "a module, reinstall that module.";
    };
    std::string d = dkms_dir.string();
    CHECK(f.run() ==
          std::vector<std::string>{
              "leftover | " + d +
                  "/.foo.ko.tmp-Ab12Cd is a module file copied by an interrupted install. | dkms-run "
                  "removes it the next time it changes that module (e.g. dkms-run autoinstall), or "
                  "remove it by hand.",
              "orphan | " + d + "/stray.ko is not accounted for: no DKMS module's manifest or build has it. | " +
                  fix(d + "/stray.ko"),
              "orphan | " + d +
                  "/sub/stray2.ko.xz is not accounted for: no DKMS module's manifest or build has it. | " +
                  fix(d + "/sub/stray2.ko.xz")});
}

TEST_CASE("doctor: manifests whose files are missing or changed", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.module("foo", "1.0");
    fs::path inst = f.install("foo", "1.0", K1);
    f.module("bar", "1.0");
    fs::path bar_inst = f.install("bar", "1.0", K1);
    f.module("baz", "1.0");
    fs::path baz_built = f.build("baz", "1.0", K1);
    f.module("qux", "1.0");
    f.install("qux", "1.0", K1);
    FakeRoot::write(inst, "changed by hand");
    fs::remove(bar_inst);
    FakeRoot::write(baz_built, "changed");
    FakeRoot::write(f.tree.built_dir({"qux", "1.0"}, {K1, A}) / ".dkms-run.yaml", "schema: [");
    auto got = f.run();
    std::string qux_man = (f.tree.built_dir({"qux", "1.0"}, {K1, A}) / ".dkms-run.yaml").string();
    // baz is also not installed; qux's installed file is accounted for by its module/, as a build of dkms's.
    std::vector<std::string> want{
        "not-installed | baz/1.0 is built but not installed for kernel 6.1.0-9-amd64 (x86_64). | dkms-run install "
        "baz/1.0 -k 6.1.0-9-amd64",
        "manifest | bar/1.0 for kernel 6.1.0-9-amd64 (x86_64): " + bar_inst.string() +
            " is missing (it was installed). | dkms-run install --force bar/1.0 -k 6.1.0-9-amd64",
        "manifest | baz/1.0 for kernel 6.1.0-9-amd64 (x86_64): the built module " + baz_built.string() +
            " was changed since it was built. | dkms-run build --force baz/1.0 -k 6.1.0-9-amd64",
        "manifest | foo/1.0 for kernel 6.1.0-9-amd64 (x86_64): " + inst.string() +
            " was changed since it was installed. | If the change was not yours: dkms-run install --force foo/1.0 -k "
            "6.1.0-9-amd64",
        "manifest | qux/1.0 for kernel 6.1.0-9-amd64 (x86_64): " + qux_man +
            ": corrupt manifest: yaml-cpp: error at line 1, column 1: end of sequence flow not found | dkms-run build "
            "--force qux/1.0 -k 6.1.0-9-amd64"};
    CHECK(got == want);
}

TEST_CASE("doctor: the MOK key pair", "[doctor]") {
    DoctorFixture f;
    std::string key = f.r("var/lib/dkms/mok.key").string(), cert = f.r("var/lib/dkms/mok.pub").string();
    SECTION("neither half: the first build makes a pair") {
        CHECK(f.run().empty());
    }
    SECTION("one half missing") {
        f.mok();
        fs::remove(cert);
        CHECK(f.run() ==
              std::vector<std::string>{
                  "signing | The MOK signing key " + key + " exists, but its certificate " + cert +
                  " is missing. | Restore " + cert + " from a backup, or remove " + key +
                  " and run 'dkms-run generate_mok' (then enrol the new certificate: mokutil --import " + cert + ")."});
    }
    SECTION("an unreadable certificate, a key readable by all") {
        f.mok();
        FakeRoot::write(cert, "not a certificate");
        chmod(key.c_str(), 0644);
        auto got = f.run();
        REQUIRE(got.size() == 2);
        CHECK(got[0].rfind("signing | The MOK certificate " + cert + " cannot be read: ", 0) == 0);
        CHECK(got[1] == "signing | The MOK signing key " + key +
                            " can be read by users other than its owner. | "
                            "chmod 600 " +
                            key);
    }
    SECTION("expired, and not a pair") {
        f.mok(1);
        fs::path other = f.r("other");
        fs::create_directories(other);
        f.openssl({"genrsa", "-out", (other / "k").string(), "2048"});
        fs::copy_file(other / "k", key, fs::copy_options::overwrite_existing);
        f.probes.now += 400 * 86400;  // the certificate was valid for a day: a year later it is not
        auto got = f.run();
        REQUIRE(got.size() == 2);
        CHECK(got[0].rfind("signing | The MOK certificate " + cert + " expired on ", 0) == 0);
        CHECK(got[0].find(" (Linux still loads modules signed with it; other tools may refuse it). | Make a new "
                          "pair: remove it and its key, run 'dkms-run generate_mok', enrol the new certificate "
                          "(mokutil --import " +
                          cert + ") and rebuild the modules.") != std::string::npos);
        CHECK(got[1] == "signing | The MOK signing key " + key + " and the certificate " + cert +
                            " are not a pair: modules signed with it will not verify. | Restore the matching half "
                            "from a backup, or make a new pair with 'dkms-run generate_mok'.");
    }
    SECTION("Secure Boot on: enrolled or not") {
        f.mok();
        f.secure_boot = true;
        f.mokutil_said = cert + " is already enrolled\n";
        CHECK(f.run().empty());
        f.mokutil_said = cert + " is not enrolled\n";
        CHECK(f.run() == std::vector<std::string>{"signing | The MOK certificate " + cert +
                                                  " is not enrolled: with Secure Boot on, modules "
                                                  "signed with it will not load. | Enrol it with: mokutil --import " +
                                                  cert + " (then reboot and confirm in MokManager)."});
        f.mokutil_said = std::nullopt;  // mokutil is not installed
        CHECK(f.run().size() == 1);
        f.secure_boot = false;
        CHECK(f.run().empty());
    }
}

TEST_CASE("doctor: leftovers of interrupted runs, and broken versions", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.module("foo", "1.0", "");
    f.install("foo", "1.0", K1);
    ModuleId id{"foo", "1.0"};
    fs::create_directories(f.tree.module_dir("foo") / ".tmp_add_a1B2c3");
    fs::create_directories(f.tree.module_dir("foo") / ".tmp_remove_x9Y8z7");
    fs::create_directories(f.tree.version_dir(id) / ".source.tmp-Qw12Er");
    fs::create_directories(f.tree.kernel_dir(id, K1) / ".tmp_x86_64_Zx98Cv");
    fs::create_directories(f.tree.built_dir(id, {K1, "i686"}) / "log");  // killed before module/ was filled
    FakeRoot::write(f.tree.built_dir(id, {K1, A}) / ".dkms-run.yaml.tmp-Po09Iu", "");
    fs::create_directories(f.settings.source_tree / ".foo-1.0.tmp-As34Df");
    f.module("gone", "2.0", "");
    fs::remove_all(f.tree.source_dir({"gone", "2.0"}));
    std::string fix =
        "dkms-run removes it the next time it changes that module (e.g. dkms-run autoinstall), or "
        "remove it by hand.";
    std::string m = f.tree.module_dir("foo").string(), v = f.tree.version_dir(id).string();
    CHECK(f.run() ==
          std::vector<std::string>{
              "leftover | " + m + "/.tmp_add_a1B2c3 is an add interrupted before it finished. | " + fix,
              "leftover | " + m + "/.tmp_remove_x9Y8z7 is a remove interrupted before it finished. | " + fix,
              "leftover | " + v + "/.source.tmp-Qw12Er is a source copy an interrupted add left. | " + fix,
              "leftover | " + v + "/6.1.0-9-amd64/.tmp_x86_64_Zx98Cv is a build or unbuild that was interrupted. | " +
                  fix,
              "leftover | " + v +
                  "/6.1.0-9-amd64/i686 is an unfinished build of foo/1.0 for kernel 6.1.0-9-amd64 "
                  "(i686). | dkms-run build foo/1.0 -k 6.1.0-9-amd64 replaces it.",
              "leftover | " + v +
                  "/6.1.0-9-amd64/x86_64/.dkms-run.yaml.tmp-Po09Iu is a manifest an interrupted run "
                  "was writing. | " +
                  fix,
              "leftover | " + f.settings.source_tree.string() +
                  "/.foo-1.0.tmp-As34Df is a source copy an interrupted add left. | " + fix,
              "broken | gone/2.0 is broken: its source " + f.settings.source_tree.string() +
                  "/gone-2.0 (or the link to it) is missing. | Reinstall the package that provides it, or remove it: "
                  "dkms-run remove gone/2.0 --all"});
}

TEST_CASE("doctor: a dkms command that is not dkms-run's", "[doctor]") {
    DoctorFixture f;
    FakeRoot::write(f.r("usr/sbin/dkms"), "#!/bin/bash\n# dkms\n");
    CHECK(f.run() == std::vector<std::string>{});  // dkms-run is not installed there: one DKMS only
    fs::remove(f.r("usr/sbin/dkms"));
    FakeRoot::write(f.r("usr/sbin/dkms-run"), "ELF");
    fs::create_symlink("dkms-run", f.r("usr/sbin/dkms"));  // dkms-run's own compatibility link
    CHECK(f.run().empty());
    FakeRoot::write(f.r("usr/lib/dkms/dkms_autoinstaller"), "#!/bin/sh\n");
    CHECK(f.run() == std::vector<std::string>{
                         "other-dkms | " + f.r("usr/lib/dkms/dkms_autoinstaller").string() +
                         " (Debian's dkms) is installed beside dkms-run. | Keep one: apt-get remove dkms (dkms-run "
                         "provides the dkms command and keeps /var/lib/dkms)."});
    fs::remove(f.r("usr/sbin/dkms"));
    FakeRoot::write(f.r("usr/sbin/dkms"), "#!/bin/bash\n# dkms\n");
    CHECK(f.run() == std::vector<std::string>{
                         "other-dkms | " + f.r("usr/sbin/dkms").string() +
                         " is another DKMS, not dkms-run: a script (#!/bin/bash); both run on kernel updates. | Keep "
                         "one: apt-get remove dkms (dkms-run provides the dkms command and keeps /var/lib/dkms), or "
                         "remove " +
                         f.r("usr/sbin/dkms").string() + "."});
}

TEST_CASE("doctor changes nothing on disk", "[doctor]") {
    DoctorFixture f;
    f.kernel(K1);
    f.module("foo", "1.0");
    f.install("foo", "1.0", K1);
    f.module("bar", "1.0");
    fs::create_directories(f.tree.module_dir("foo") / ".tmp_add_a1B2c3");
    FakeRoot::write(f.settings.install_tree / K1 / "updates/dkms/stray.ko", "x");
    auto before = f.snapshot();
    CHECK(f.run().size() == 3);
    CHECK(f.snapshot() == before);
}

TEST_CASE("doctor --json", "[doctor]") {
    CHECK(format_doctor_json({}) == "{\"schema\": 1, \"problems\": []}");
    CHECK(format_doctor_json(
              {{"orphan", "/lib/modules/K/updates/dkms/\"x\".ko is\tnot", "rm it"}, {"broken", "b", "f"}}) ==
          "{\"schema\": 1, \"problems\": [\n"
          "  {\"kind\": \"orphan\", \"text\": \"/lib/modules/K/updates/dkms/\\\"x\\\".ko is\\tnot\", \"fix\": \"rm "
          "it\"},\n"
          "  {\"kind\": \"broken\", \"text\": \"b\", \"fix\": \"f\"}\n"
          "]}");
}
