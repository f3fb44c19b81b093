// SPDX-License-Identifier: GPL-2.0-or-later
// Every lint tag is triggered by at least one test here; a clean conf gives no finding.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "dkms/core/error.hpp"
#include "dkms/lint/lint.hpp"

namespace fs = std::filesystem;
using namespace dkms;

namespace {

std::set<std::string> triggered;  // tags seen by the tests below

const char* kGood =
    "PACKAGE_NAME=\"foo\"\nPACKAGE_VERSION=\"1.0\"\nBUILT_MODULE_NAME[0]=\"foo\"\n"
    "DEST_MODULE_LOCATION[0]=\"/updates/dkms\"\nAUTOINSTALL=\"yes\"\n";

std::vector<lint::Finding> conf(const std::string& text, const std::string& expected = "") {
    auto r = lint::lint_conf({text, "dkms.conf", expected, expected.empty() ? "" : "-V", false});
    for (const auto& f : r.findings) triggered.insert(f.tag);
    return r.findings;
}

// The only finding with `tag`, its line checked.
void expect_tag(const std::vector<lint::Finding>& fs, const std::string& tag, int line) {
    int n = 0;
    for (const auto& f : fs)
        if (f.tag == tag) {
            ++n;
            CHECK(f.line == line);
        }
    INFO("tag " << tag);
    CHECK(n == 1);
}

struct TempDir {
    fs::path dir;
    TempDir() {
        char t[] = "/tmp/lint-unit-XXXXXX";
        dir = mkdtemp(t);
    }
    ~TempDir() { fs::remove_all(dir); }
    void write(const std::string& rel, const std::string& text) const {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
};

void record(const std::vector<lint::Finding>& fs) {
    for (const auto& f : fs) triggered.insert(f.tag);
}

}  // namespace

TEST_CASE("a clean dkms.conf has no finding", "[lint]") {
    CHECK(conf(kGood).empty());
    CHECK(conf(kGood, "1.0").empty());
}

TEST_CASE("identity checks", "[lint]") {
    expect_tag(conf("PACKAGE_VERSION=1.0\nAUTOINSTALL=yes\n"), "missing-package-name", 0);
    expect_tag(conf("PACKAGE_NAME=foo\nAUTOINSTALL=yes\n"), "missing-package-version", 0);
    expect_tag(conf("PACKAGE_NAME=\"../foo\"\nPACKAGE_VERSION=1.0\nAUTOINSTALL=yes\n"), "unsafe-package-name", 1);
    expect_tag(conf("PACKAGE_NAME=foo\nPACKAGE_VERSION=\"1.0 beta\"\nAUTOINSTALL=yes\n"), "unsafe-package-version", 2);
    expect_tag(conf("PACKAGE_NAME=foo\nPACKAGE_VERSION=\"#MODULE_VERSION#\"\nAUTOINSTALL=yes\n"),
               "module-version-placeholder", 2);
    expect_tag(conf(kGood, "2.0"), "version-mismatch", 2);
    auto sh = conf("PACKAGE_NAME=$(echo foo)\nPACKAGE_VERSION=1.0\nAUTOINSTALL=yes\n");
    expect_tag(sh, "missing-package-name", 0);
    expect_tag(sh, "conf-needs-shell", 1);
}

TEST_CASE("module record checks", "[lint]") {
    std::string base = "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nAUTOINSTALL=yes\n";
    expect_tag(conf(base + "BUILT_MODULE_NAME[0]=foo.ko\nDEST_MODULE_LOCATION[0]=/updates\n"),
               "module-name-has-extension", 4);
    expect_tag(conf(base + "BUILT_MODULE_NAME[0]=foo\nDEST_MODULE_NAME[0]=bar.o\nDEST_MODULE_LOCATION[0]=/extra\n"),
               "module-name-has-extension", 5);
    expect_tag(conf(base + "BUILT_MODULE_NAME[0]=foo\nDEST_MODULE_LOCATION[0]=/lib/modules\n"),
               "bad-dest-module-location", 5);
    for (auto loc : {"/kernel/drivers/misc", "/updates/dkms", "/extra"}) {
        INFO(loc);
        CHECK(conf(base + "BUILT_MODULE_NAME[0]=foo\nDEST_MODULE_LOCATION[0]=" + loc + "\n").empty());
    }
    expect_tag(conf(base + "BUILT_MODULE_NAME[0]=foo\nBUILT_MODULE_NAME[1]=bar\nDEST_MODULE_LOCATION[0]=/kernel\n"),
               "missing-dest-module-location", 5);
    auto dup = conf(base +
                    "BUILT_MODULE_NAME[0]=foo\nDEST_MODULE_LOCATION[0]=/updates\n"
                    "BUILT_MODULE_NAME[1]=foo\nDEST_MODULE_LOCATION[1]=/updates\n");
    int n = 0;
    for (const auto& f : dup) n += f.tag == "duplicate-module";
    CHECK(n == 2);  // same built module and same installed name
    auto ok = conf(base +
                   "BUILT_MODULE_NAME[0]=foo\nBUILT_MODULE_LOCATION[0]=a\nDEST_MODULE_NAME[0]=foo_a\n"
                   "DEST_MODULE_LOCATION[0]=/updates\nBUILT_MODULE_NAME[1]=foo\nBUILT_MODULE_LOCATION[1]=b\n"
                   "DEST_MODULE_NAME[1]=foo_b\nDEST_MODULE_LOCATION[1]=/updates\n");
    CHECK(ok.empty());
}

TEST_CASE("directive checks", "[lint]") {
    std::string base = "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\n";
    expect_tag(conf(base), "missing-autoinstall", 0);
    expect_tag(conf(base + "AUTOINSTALL=Y\n"), "invalid-yes-no-value", 3);
    CHECK(conf(base + "AUTOINSTALL=Yes\n").empty());  // dkms-run takes any case
    CHECK(conf(base + "AUTOINSTALL=yes\nNO_WEAK_MODULES=no\nBUILD_DEPENDS_REBUILD=NO\n").empty());  // no is valid too
    expect_tag(conf(base + "AUTOINSTALL=yes\nNO_WEAK_MODULES=off\n"), "invalid-yes-no-value", 4);
    expect_tag(conf(base + "AUTOINSTALL=yes\nREMAKE_INITRD=yes\n"), "deprecated-directive", 4);
    expect_tag(conf(base + "AUTOINSTALL=yes\nCLEAN=\"make clean\"\n"), "deprecated-directive", 4);
    // True for bookworm's dkms 3.0.10 (which runs CLEAN) as for upstream 3.4 (which ignores it).
    CHECK(lint::format_finding(conf(base + "AUTOINSTALL=yes\nCLEAN=\"make clean\"\n").at(0)) ==
          "W: dkms.conf:4: deprecated-directive: CLEAN is ignored by upstream dkms 3.1.8 and later; Debian's dkms 3.0 "
          "and dkms-run on Debian run it after the build, which only matters when MAKE writes outside the build "
          "directory (every dkms builds in a fresh copy of the source): remove it unless yours does");
    CHECK(lint::format_finding(conf(base + "AUTOINSTALL=yes\nOBSOLETE_BY=\"5.4\"\n").at(0)) ==
          "W: dkms.conf:4: deprecated-directive: OBSOLETE_BY is deprecated by dkms 3.4 (which reads it as "
          "BUILD_EXCLUSIVE_KERNEL_MAX, new in dkms 3.0.11); keep it only while the package must work with Debian's "
          "dkms 3.0.10 (bookworm)");
    CHECK(conf(base + "AUTOINSTALL=yes\nCLEAN=true\n").empty());
    expect_tag(conf(base + "AUTOINSTALL=yes\nMAKE[0]=\"make -C /lib/modules/`uname -r`/build M=$PWD\"\n"),
               "make-uses-uname-r", 4);
    CHECK(conf(base + "AUTOINSTALL=yes\n# MAKE uses uname -r in the old days\n").empty());
}

TEST_CASE("source directory checks", "[lint]") {
    TempDir t;
    t.write("usr/src/foo-1.0/dkms.conf", kGood);
    auto miss = lint::lint_source_dir(t.dir / "usr/src/foo-1.0", "usr/src/foo-1.0", "foo", "1.0");
    record(miss);
    expect_tag(miss, "missing-module-source", 0);
    t.write("usr/src/foo-1.1/foo.c", "");
    auto mism = lint::lint_source_dir(t.dir / "usr/src/foo-1.0", "usr/src/foo-1.0", "foo", "1.0");
    record(mism);
    expect_tag(mism, "version-mismatch", 0);
    t.write("usr/src/foo-1.0/foo.c", "");
    CHECK(lint::lint_source_dir(t.dir / "usr/src/foo-1.0", "x", "foo", "1.0").empty());
}

TEST_CASE("debian/ packaging checks", "[lint]") {
    TempDir t;
    t.write("Makefile", "obj-m := foo.o\ninstall:\n\ttrue\n");
    t.write("debian/rules", "#!/usr/bin/make -f\n%:\n\tdh $@\n");
    t.write("debian/control",
            "Source: foo\n\nPackage: foo-dkms\nArchitecture: all\nDescription: x\n\n"
            "Package: foo-doc\nArchitecture: all\nDescription: x\n");
    t.write("debian/foo-dkms.postinst", "#!/bin/sh\nset -e\n");
    auto fs = lint::lint_debian(t.dir);
    record(fs);
    expect_tag(fs, "dh-auto-build-builds-module", 2);
    CHECK_THAT(fs[0].message,
               Catch::Contains("override_dh_auto_build, override_dh_auto_clean, override_dh_auto_install"));
    expect_tag(fs, "missing-misc-depends", 3);
    expect_tag(fs, "maintainer-script-lacks-debhelper-token", 0);
    CHECK(fs.size() == 3);
    // Several overrides sharing one rule line count, each of them.
    t.write("debian/rules", "%:\n\tdh $@\n\noverride_dh_auto_build override_dh_auto_install override_dh_auto_clean:\n");
    CHECK(lint::lint_debian(t.dir).size() == 2);
    t.write("debian/rules", "%:\n\tdh $@\n\noverride_dh_auto_install:\n");
    auto partial = lint::lint_debian(t.dir);
    expect_tag(partial, "dh-auto-build-builds-module", 1);
    CHECK_THAT(partial[0].message, Catch::Contains("add empty override_dh_auto_build, override_dh_auto_clean targets"));
    // The package decides what its build runs once dh_auto_build is overridden.
    t.write("debian/rules", "%:\n\tdh $@\n\noverride_dh_auto_build:\n\t$(MAKE) -C tools\n");
    CHECK(lint::lint_debian(t.dir).size() == 2);
    // A Makefile that does not build the module (userspace only, or install only), or a Kbuild alone.
    t.write("debian/rules", "%:\n\tdh $@\n");
    t.write("Makefile", "SUBDIRS = src/common src/usr\nall:\n\tfor d in $(SUBDIRS); do $(MAKE) -C $$d; done\n");
    CHECK(lint::lint_debian(t.dir).size() == 2);
    t.write("Makefile", "install:\n\tcp -r src /usr/src/foo-1.0\n\tdkms add -m foo -v 1.0\n");
    CHECK(lint::lint_debian(t.dir).size() == 2);
    fs::remove(t.dir / "Makefile");
    t.write("Kbuild", "obj-m := foo.o\n");
    CHECK(lint::lint_debian(t.dir).size() == 2);
    t.write("Makefile", "# obj-m := foo.o is in Kbuild\nall:\n\t$(MAKE) -C $(KDIR) M=$(CURDIR) modules\n");
    expect_tag(lint::lint_debian(t.dir), "dh-auto-build-builds-module", 1);
    t.write("debian/rules", "%:\n\tdh $@ --buildsystem=none\n");
    t.write("debian/control", "Source: foo\n\nPackage: foo-dkms\nArchitecture: all\nDepends: ${misc:Depends}\n");
    t.write("debian/foo-dkms.postinst", "#!/bin/sh\n#DEBHELPER#\n");
    CHECK(lint::lint_debian(t.dir).empty());
}

TEST_CASE("what makes dkms-run refuse the whole file", "[lint]") {
    expect_tag(conf(std::string(kGood) + "X=1" + std::string(1, '\0') + "\n"), "conf-has-nul-byte", 6);
    std::string crlf = kGood;
    for (size_t p = 0; (p = crlf.find('\n', p)) != std::string::npos; p += 2) crlf.insert(p, "\r");
    expect_tag(conf(crlf), "crlf-line-endings", 1);
    expect_tag(conf(std::string(kGood) + std::string(1024 * 1024, '#') + "\n"), "conf-too-large", 0);
}

TEST_CASE("dkms-run's own reading, at package build time", "[lint]") {
    TempDir t;
    t.write("m/foo.c", "");
    CHECK(lint::lint_runtime(kGood, t.dir / "m", "debian/foo.dkms").empty());
    CHECK(std::distance(fs::directory_iterator(t.dir / "m"), fs::directory_iterator()) == 1);  // copy removed
    auto fs = lint::lint_runtime(std::string(kGood) + "DEST_MODULE_NAME[0]=\"a/b\"\n", t.dir / "m", "debian/foo.dkms");
    record(fs);
    REQUIRE(fs.size() == 1);
    CHECK(lint::format_finding(fs[0]) ==
          "E: debian/foo.dkms: rejected-by-dkms-run: dkms-run would refuse it: Module name 'a/b' in record #0 contains "
          "'/'.");
    fs = lint::lint_runtime(std::string(kGood) + "PATCH[0]=fix.patch\n", t.dir / "m", "dkms.conf");
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].message ==
          "dkms-run would refuse it: PATCH 'fix.patch' is not in " + (t.dir / "m/patches").string() + "/");
    t.write("m/patches/fix.patch", "");
    CHECK(lint::lint_runtime(std::string(kGood) + "PATCH[0]=fix.patch\n", t.dir / "m", "dkms.conf").empty());
}

TEST_CASE("lint_path on a file, a source dir and a source package", "[lint]") {
    TempDir t;
    t.write("m/dkms.conf", kGood);
    t.write("m/foo.c", "");
    CHECK(lint::lint_path(t.dir / "m/dkms.conf").empty());
    CHECK(lint::lint_path(t.dir / "m").empty());
    t.write("m/debian/control", "Source: foo\n\nPackage: foo-dkms\nArchitecture: all\n");
    auto fs = lint::lint_path(t.dir / "m");
    REQUIRE(fs.size() == 1);
    CHECK(lint::format_finding(fs[0]) ==
          "W: debian/control:3: missing-misc-depends: package foo-dkms does not have ${misc:Depends} in Depends, so it "
          "will not depend on the dkms runtime");
    CHECK_THROWS_AS(lint::lint_path(t.dir / "nowhere"), Error);
    fs::create_directories(t.dir / "empty");
    CHECK_THROWS_AS(lint::lint_path(t.dir / "empty"), Error);
}

TEST_CASE("every tag is documented in docs/dh_dkms-checks.md", "[lint]") {
    std::ifstream in(std::string(DKMS_SOURCE_ROOT) + "/docs/dh_dkms-checks.md");
    REQUIRE(in);
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& t : lint::lint_tags()) {
        INFO("tag " << t.tag);
        CHECK(doc.find("| `" + std::string(t.tag) + "` |") != std::string::npos);
    }
}

TEST_CASE("every tag has a test that triggers it", "[lint][zz]") {
    // Catch2 runs test cases in declaration order by default; this one is last.
    for (const auto& t : lint::lint_tags()) {
        INFO("tag " << t.tag);
        CHECK(triggered.count(std::string(t.tag)));
    }
}
