// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for lib/deb: libdpkg adapter, strict autoscript rendering, the Dh_Lib port.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dkms/deb/debhelper.hpp"
#include "dkms/deb/dpkg.hpp"
#include "dkms/core/error.hpp"

namespace fs = std::filesystem;
using namespace dkms;

namespace {

struct TempTree {
    fs::path dir;
    TempTree() {
        char tmpl[] = "/tmp/dh-unit-XXXXXX";
        dir = mkdtemp(tmpl);
        fs::create_directories(dir / "debian");
    }
    ~TempTree() { fs::remove_all(dir); }
    void write(const std::string& rel, const std::string& text) const {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
    std::string read(const std::string& rel) const {
        std::ifstream in(dir / rel);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

struct Lines : Reporter {
    std::vector<std::string> lines;
    void out(std::string_view l) override { lines.emplace_back(l); }
    void err(std::string_view l) override { lines.emplace_back(l); }
    void out_partial(std::string_view) override {}
};

const char* kControl =
    "Source: foo\nBuild-Depends: debhelper-compat (= 13), dh-sequence-dkms\n\n"
    "Package: foo-dkms\nArchitecture: all\nDepends: ${misc:Depends}\nDescription: x\n more\n\n"
    "Package: bar-dkms\nArchitecture: any\nDescription: y\n\n"
    "Package: baz-dkms\nArchitecture: armel\nDescription: z\n";

}  // namespace

TEST_CASE("versions compare as dpkg does", "[deb]") {
    CHECK(dpkg::compare_versions("1.0", "1.0") == 0);
    CHECK(dpkg::compare_versions("1.0~rc1", "1.0") < 0);
    CHECK(dpkg::compare_versions("1:0.1", "2.0") > 0);
    CHECK(dpkg::compare_versions("0.1.0", "0.1.0-1") < 0);
    CHECK_THROWS_AS(dpkg::compare_versions("a b", "1"), Error);
    CHECK(dpkg::valid_version("1.0-1"));
    std::string why;
    CHECK_FALSE(dpkg::valid_version("", &why));
    CHECK_FALSE(why.empty());
}

TEST_CASE("strip_revision keeps the epoch", "[deb]") {
    CHECK(dpkg::strip_revision("1.0-1") == "1.0");
    CHECK(dpkg::strip_revision("1:1.0-1") == "1:1.0");
    CHECK(dpkg::strip_revision("1.0-rc1-2") == "1.0-rc1");
    CHECK(dpkg::strip_revision("1.0") == "1.0");
}

TEST_CASE("deb822 paragraphs, comments and continuations", "[deb]") {
    auto ps = dpkg::parse_deb822("# c\nA: 1\nB: x\n y\n .\n z\n\n\nC: 3\n");
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].value("a") == "1");
    CHECK(ps[0].value("B") == "x\ny\n\nz");
    CHECK(ps[1].line == 9);
    CHECK_THROWS_AS(dpkg::parse_deb822("A: 1\nnot a field\n"), ConfigError);
}

TEST_CASE("control: packages in order, compat from Build-Depends", "[deb]") {
    TempTree t;
    t.write("debian/control", kControl);
    auto c = dpkg::read_control(t.dir / "debian/control");
    REQUIRE(c.packages.size() == 3);
    CHECK(c.packages[0].name == "foo-dkms");
    CHECK(c.packages[1].architecture == "any");
    CHECK(c.compat_from_build_depends() == 13);
}

TEST_CASE("changelog head", "[deb]") {
    TempTree t;
    t.write("debian/changelog", "\nfoo (1:2.0-3) unstable; urgency=medium\n\n  * x\n");
    auto e = dpkg::read_changelog_head(t.dir / "debian/changelog");
    CHECK(e.source == "foo");
    CHECK(e.version == "1:2.0-3");
    CHECK(e.distribution == "unstable");
    CHECK_THROWS_WITH(dpkg::read_changelog_head(t.dir / "nope"), Catch::Contains("cannot open file"));
    t.write("bad", "garbage line\n");
    CHECK_THROWS_AS(dpkg::read_changelog_head(t.dir / "bad"), ConfigError);
}

TEST_CASE("architecture wildcards", "[deb]") {
    CHECK(dpkg::arch_matches("any", "amd64"));
    CHECK(dpkg::arch_matches("linux-any", "amd64"));
    CHECK(dpkg::arch_matches("any-amd64", "amd64"));
    CHECK(dpkg::arch_matches("i386 amd64", "amd64"));
    CHECK_FALSE(dpkg::arch_matches("kfreebsd-any", "amd64"));
    CHECK_FALSE(dpkg::arch_matches("any", "all"));
    CHECK(dpkg::arch_matches("all", "all"));
}

TEST_CASE("render_autoscript is strict", "[deb][autoscript]") {
    dh::Tokens tk{{"A", "x"}, {"B", "y/z"}};
    CHECK(dh::render_autoscript("t", "#A# #B# #A#\n# comment #\n", tk) == "x y/z x\n# comment #\n");
    CHECK_THROWS_WITH(dh::render_autoscript("t", "#A# #C#", tk), Catch::Contains("#C#"));
    CHECK_THROWS_WITH(dh::render_autoscript("t", "#A#", tk), Catch::Contains("#B#"));
    CHECK(dh::render_autoscript("t", "a#b #lower# ##", {}) == "a#b #lower# ##");
}

TEST_CASE("package selection", "[deb][dh]") {
    TempTree t;
    t.write("debian/control", kControl);
    setenv("DEB_HOST_ARCH", "amd64", 1);
    Lines rep;
    auto names = [](const dh::Helper& h) {
        std::string s;
        for (auto& p : h.dopackages()) s += p.name + " ";
        return s;
    };
    CHECK(names(dh::Helper("dh_x", "1", {}, rep, t.dir)) == "foo-dkms bar-dkms ");
    dh::Options o;
    o.arch = true;
    CHECK(names(dh::Helper("dh_x", "1", o, rep, t.dir)) == "bar-dkms ");
    o = {};
    o.indep = true;
    CHECK(names(dh::Helper("dh_x", "1", o, rep, t.dir)) == "foo-dkms ");
    o = {};
    o.no_packages = {"foo-dkms"};
    CHECK(names(dh::Helper("dh_x", "1", o, rep, t.dir)) == "bar-dkms ");
    o = {};
    o.packages = {"nosuch"};
    CHECK_THROWS_WITH(dh::Helper("dh_x", "1", o, rep, t.dir),
                      "Requested unknown package nosuch via -p/--package, expected one of: foo-dkms bar-dkms baz-dkms");
    o = {};
    o.no_packages = {"nosuch"};
    try {
        dh::Helper("dh_x", "1", o, rep, t.dir);
        FAIL("no error for -N nosuch");
    } catch (const Error& e) {
        REQUIRE(e.lines().size() == 2);
        CHECK(e.lines()[0] == "Requested unknown package nosuch via -N/--no-package, expected one of: foo-dkms bar-dkms baz-dkms");
        CHECK(e.lines()[1] == "unknown option or error during option parsing; aborting");
    }
    o = {};
    o.tmpdir = "debian/tmpdir";
    CHECK_THROWS_WITH(dh::Helper("dh_x", "1", o, rep, t.dir),
                      "-P was specified, but multiple packages would be acted on (foo-dkms,bar-dkms).");
    o.packages = {"bar-dkms"};
    CHECK(dh::Helper("dh_x", "1", o, rep, t.dir).tmpdir("bar-dkms") == "debian/tmpdir");
    o = {};
    o.packages = {"baz-dkms"};
    dh::Helper h("dh_x", "1", o, rep, t.dir);
    CHECK(h.dopackages().empty());
    REQUIRE(h.selection_warnings().size() == 1);
    CHECK_THAT(h.selection_warnings()[0], Catch::StartsWith("No packages to build."));
    o = {};
    o.remaining = true;
    t.write("debian/foo-dkms.debhelper.log", "dh_other\ndh_x\n");
    CHECK(names(dh::Helper("dh_x", "1", o, rep, t.dir)) == "bar-dkms ");
    unsetenv("DEB_HOST_ARCH");
}

TEST_CASE("environment: DH_VERBOSE wins over DH_QUIET and terse", "[deb][dh]") {
    for (const char* v : {"DH_VERBOSE", "DH_QUIET", "DH_NO_ACT", "DEB_BUILD_OPTIONS"}) unsetenv(v);
    auto env = [](bool verbose_flag = false) {
        dh::Options o;
        o.verbose = verbose_flag;
        dh::apply_environment(o);
        return std::string(o.verbose ? "v" : "") + (o.quiet ? "q" : "") + (o.no_act ? "n" : "");
    };
    CHECK(env() == "");
    setenv("DH_QUIET", "1", 1);
    CHECK(env() == "q");
    CHECK(env(true) == "vq");  // -v with DH_QUIET: debhelper sets both
    setenv("DH_VERBOSE", "1", 1);
    CHECK(env() == "v");
    unsetenv("DH_VERBOSE");
    setenv("DH_QUIET", "", 1);  // empty is off
    CHECK(env() == "");
    setenv("DEB_BUILD_OPTIONS", "nocheck terse parallel=2", 1);
    CHECK(env() == "q");
    setenv("DEB_BUILD_OPTIONS", "terser", 1);
    CHECK(env() == "");
    setenv("DH_NO_ACT", "1", 1);
    CHECK(env() == "n");
    for (const char* v : {"DH_VERBOSE", "DH_QUIET", "DH_NO_ACT", "DEB_BUILD_OPTIONS"}) unsetenv(v);
}

TEST_CASE("message colours follow debhelper", "[deb][dh]") {
    const bool tty = isatty(1) || isatty(2);
    auto with = [](std::initializer_list<std::pair<const char*, const char*>> vars) {
        for (const char* v : {"DH_COLORS", "DPKG_COLORS", "NO_COLOR"}) unsetenv(v);
        for (auto& [k, v] : vars) setenv(k, v, 1);
        bool c = dh::use_color();
        for (const char* v : {"DH_COLORS", "DPKG_COLORS", "NO_COLOR"}) unsetenv(v);
        return c;
    };
    CHECK(with({{"DH_COLORS", "always"}, {"NO_COLOR", "1"}}));
    CHECK_FALSE(with({{"DH_COLORS", "never"}, {"DPKG_COLORS", "always"}}));
    CHECK_FALSE(with({{"DH_COLORS", ""}, {"DPKG_COLORS", "always"}}));  // set, even empty, wins
    CHECK(with({{"DPKG_COLORS", "always"}, {"NO_COLOR", ""}}));
    CHECK_FALSE(with({{"DH_COLORS", "yes"}}));
    CHECK_FALSE(with({{"NO_COLOR", ""}}));
    CHECK(with({{"DH_COLORS", "auto"}, {"NO_COLOR", "1"}}) == tty);
    CHECK(with({}) == tty);
    CHECK(dh::format_message("dh_x", "error", "m", false) == "dh_x: error: m");
    CHECK(dh::format_message("dh_x", "error", "m", true) == "\033[1mdh_x\033[0m: \033[1;31merror\033[0m: m");
    CHECK(dh::format_message("dh_x", "warning", "m", true) == "\033[1mdh_x\033[0m: \033[1;33mwarning\033[0m: m");
}

TEST_CASE("pkgfile lookup order", "[deb][dh]") {
    TempTree t;
    t.write("debian/control", kControl);
    setenv("DEB_HOST_ARCH", "amd64", 1);
    Lines rep;
    dh::Helper h("dh_x", "1", {}, rep, t.dir);
    CHECK_FALSE(h.pkgfile("foo-dkms", "dkms"));
    t.write("debian/dkms", "x");
    CHECK(h.pkgfile("foo-dkms", "dkms") == fs::path("debian/dkms"));
    CHECK_FALSE(h.pkgfile("bar-dkms", "dkms"));  // generic file is for the main package only
    t.write("debian/bar-dkms.dkms", "x");
    CHECK(h.pkgfile("bar-dkms", "dkms") == fs::path("debian/bar-dkms.dkms"));
    t.write("debian/bar-dkms.dkms.linux", "x");
    CHECK(h.pkgfile("bar-dkms", "dkms") == fs::path("debian/bar-dkms.dkms.linux"));
    t.write("debian/bar-dkms.dkms.amd64", "x");
    CHECK(h.pkgfile("bar-dkms", "dkms") == fs::path("debian/bar-dkms.dkms.amd64"));
    dh::Options o;
    o.name = "extra";
    t.write("debian/extra.dkms", "x");
    dh::Helper hn("dh_x", "1", o, rep, t.dir);
    CHECK(hn.pkgfile("foo-dkms", "dkms") == fs::path("debian/extra.dkms"));
    CHECK(hn.tmpdir("foo-dkms") == fs::path("debian/foo-dkms"));
    unsetenv("DEB_HOST_ARCH");
}

TEST_CASE("autoscript blocks: append, prepend, replace in place", "[deb][dh]") {
    TempTree t;
    t.write("debian/control", kControl);
    t.write("as/snip", "echo #N#\n");
    setenv("DH_AUTOSCRIPTDIR", (t.dir / "as").c_str(), 1);
    Lines rep;
    dh::Helper h("dh_x", "9", {}, rep, t.dir);
    t.write("debian/foo-dkms.prerm.debhelper", "other\n");
    t.write("debian/foo-dkms.postinst.debhelper", "other\n");
    t.write("debian/foo-dkms.postrm.debhelper", "other\n");
    t.write("debian/foo-dkms.preinst.debhelper", "other\n");
    h.autoscript("foo-dkms", "prerm", "snip", {{"N", "a"}});
    h.autoscript("foo-dkms", "postinst", "snip", {{"N", "a"}});
    h.autoscript("foo-dkms", "postrm", "snip", {{"N", "a"}});
    h.autoscript("foo-dkms", "preinst", "snip", {{"N", "a"}});
    const std::string blk = "# Automatically added by dh_x/9\necho a\n# End automatically added section\n";
    // debhelper: the removal scripts get the new block first (they undo in reverse order), the others last
    CHECK(t.read("debian/foo-dkms.prerm.debhelper") == blk + "other\n");
    CHECK(t.read("debian/foo-dkms.postrm.debhelper") == blk + "other\n");
    CHECK(t.read("debian/foo-dkms.postinst.debhelper") == "other\n" + blk);
    CHECK(t.read("debian/foo-dkms.preinst.debhelper") == "other\n" + blk);
    t.write("debian/foo-dkms.postinst.debhelper", "first\n" + blk + "later\n");
    h.autoscript("foo-dkms", "postinst", "snip", {{"N", "b"}});
    CHECK(t.read("debian/foo-dkms.postinst.debhelper") ==
          "first\n# Automatically added by dh_x/9\necho b\n# End automatically added section\nlater\n");
    CHECK_THROWS_WITH(h.autoscript("foo-dkms", "postinst", "missing", {}), Catch::Contains("Could not find autoscript"));
    unsetenv("DH_AUTOSCRIPTDIR");
}

TEST_CASE("addsubstvar merges like debhelper", "[deb][dh]") {
    TempTree t;
    t.write("debian/control", kControl);
    Lines rep;
    dh::Helper h("dh_x", "1", {}, rep, t.dir);
    t.write("debian/foo-dkms.substvars", "misc:Depends=debconf (>= 0.5) | debconf-2.0\nother=1\n");
    h.addsubstvar("foo-dkms", "misc:Depends", "dkms-run (>= 0.1.0) | dkms");
    h.addsubstvar("foo-dkms", "misc:Depends", "dkms-run (>= 0.1.0) | dkms");
    CHECK(t.read("debian/foo-dkms.substvars") ==
          "misc:Depends=debconf (>= 0.5) | debconf-2.0, dkms-run (>= 0.1.0) | dkms\nother=1\n");
    h.addsubstvar("bar-dkms", "misc:Depends", "x", ">= 1");
    CHECK(t.read("debian/bar-dkms.substvars") == "misc:Depends=x (>= 1)\n");
}

TEST_CASE("no-act writes nothing, verbose prints", "[deb][dh]") {
    TempTree t;
    t.write("debian/control", kControl);
    t.write("src.conf", "x");
    Lines rep;
    dh::Options o;
    o.no_act = true;
    o.verbose = true;
    dh::Helper h("dh_x", "1", o, rep, t.dir);
    h.addsubstvar("foo-dkms", "misc:Depends", "x");
    h.install_file("src.conf", "debian/foo-dkms/usr/src/a/dkms.conf", fs::perms(0644));
    CHECK_FALSE(fs::exists(t.dir / "debian/foo-dkms.substvars"));
    CHECK_FALSE(fs::exists(t.dir / "debian/foo-dkms/usr/src/a/dkms.conf"));
    REQUIRE(rep.lines.size() == 2);
    CHECK(rep.lines[1] == "\tinstall -p -D -m644 src.conf debian/foo-dkms/usr/src/a/dkms.conf");
}
