// SPDX-License-Identifier: GPL-2.0-or-later
// The dkms tree read without processes: state predicates, listings, manifests and status rows,
// on synthetic trees laid out as dkms 3.x lays them out.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "dkms/ops/autoinstall.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/tree/tree.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

const Target T1{"6.1.0-9-amd64", "x86_64"};
const Target T2{"6.1.0-10-amd64", "x86_64"};

/// A tree with foo/1.0 added (source link), optionally built and installed for targets.
struct TreeFixture : FakeRoot {
    Tree tree{settings};
    void add(const ModuleId& id) {
        fs::path src = tree.source_dir(id);
        fs::create_directories(src);
        write(src / "dkms.conf", "PACKAGE_NAME=" + id.name + "\nPACKAGE_VERSION=" + id.version + "\n");
        fs::create_directories(tree.version_dir(id));
        fs::create_symlink(src, tree.source_link(id));
    }
    void build(const ModuleId& id, const Target& t) {
        fs::create_directories(tree.built_dir(id, t) / "module");
        write(tree.built_dir(id, t) / "module" / (id.name + ".ko"), "ko");
    }
    void install(const ModuleId& id, const Target& t) {
        fs::path link = tree.installed_link(id.name, t);
        fs::remove(link);
        fs::create_symlink(fs::path(id.version) / t.kver / t.arch, link);
    }
};

}  // namespace

TEST_CASE("added, built, installed: the dkms 3.4 predicates", "[tree]") {
    TreeFixture f;
    ModuleId id{"foo", "1.0"};
    CHECK_FALSE(f.tree.is_added(id));
    f.add(id);
    CHECK(f.tree.is_added(id));
    CHECK_FALSE(f.tree.is_broken(id));
    CHECK_FALSE(f.tree.is_built(id, T1));
    f.build(id, T1);
    CHECK(f.tree.is_built(id, T1));
    CHECK_FALSE(f.tree.is_built(id, T2));
    CHECK_FALSE(f.tree.is_installed(id, T1));
    f.install(id, T1);
    CHECK(f.tree.is_installed(id, T1));
    CHECK(f.tree.installed_version("foo", T1) == "1.0");
    CHECK(f.tree.installed_version("foo", T2) == "");
    // Installed means built too: a link to a build that is gone is not an installation.
    fs::remove_all(f.tree.built_dir(id, T1) / "module");
    CHECK_FALSE(f.tree.is_installed(id, T1));
}

TEST_CASE("a dangling source link, or a source without its link, is broken", "[tree]") {
    TreeFixture f;
    ModuleId id{"foo", "1.0"};
    f.add(id);
    fs::remove_all(f.tree.source_dir(id));
    CHECK(f.tree.is_broken(id));
    CHECK_FALSE(f.tree.is_added(id));
    TreeFixture g;
    g.add(id);
    fs::remove(g.tree.source_link(id));
    CHECK(g.tree.is_broken(id));
}

TEST_CASE("installed_version only trusts links of the form <v>/<K>/<A>", "[tree]") {
    TreeFixture f;
    ModuleId id{"foo", "1.0"};
    f.add(id);
    f.build(id, T1);
    fs::path link = f.tree.installed_link("foo", T1);
    fs::create_symlink("../../../etc", link);
    CHECK(f.tree.installed_version("foo", T1) == "");
    fs::remove(link);
    fs::create_symlink(fs::path("1.0") / T2.kver / T1.arch, link);   // another kernel's build
    CHECK(f.tree.installed_version("foo", T1) == "");
    fs::remove(link);
    fs::create_symlink(f.tree.built_dir(id, T1), link);               // absolute
    CHECK(f.tree.installed_version("foo", T1) == "");
}

TEST_CASE("listings: modules, versions and built targets", "[tree]") {
    TreeFixture f;
    f.add({"foo", "1.0"});
    f.add({"foo", "1.10"});
    f.add({"bar", "2"});
    f.build({"foo", "1.0"}, T2);
    f.build({"foo", "1.0"}, T1);
    f.build({"foo", "1.0"}, {T1.kver, "i686"});
    f.install({"foo", "1.0"}, T1);
    fs::create_directories(f.tree.module_dir("foo") / "original_module");
    fs::create_directories(f.tree.version_dir({"foo", "1.0"}) / "build");      // not a kernel
    fs::create_directories(f.tree.version_dir({"foo", "1.0"}) / "log");        // not a kernel
    // dkms lists +([0-9]).* only: digits alone, or digits then a letter, are not kernels either
    fs::create_directories(f.tree.version_dir({"foo", "1.0"}) / "10" / "x86_64");
    fs::create_directories(f.tree.version_dir({"foo", "1.0"}) / "6abc" / "x86_64");
    fs::create_symlink("/etc", f.settings.dkms_tree / "evil");                 // a link, not a module
    fs::create_directories(f.tree.module_dir("foo") / ".tmp_add_a1B2c3");     // staging of an add: not a version
    fs::create_directories(f.tree.module_dir("foo") / ".1.0.tmp_remove_x");   // a removal under way: not one either
    FakeRoot::write(f.settings.dkms_tree / ".dkms-run.lock", "");
    CHECK(f.tree.modules() == std::vector<std::string>{"bar", "foo"});
    CHECK(f.tree.versions("foo") == std::vector<std::string>{"1.0", "1.10"});
    CHECK(f.tree.versions("nope").empty());
    auto bt = f.tree.built_targets({"foo", "1.0"});
    REQUIRE(bt.size() == 3);
    CHECK(bt[0] == Target{T1.kver, "i686"});
    CHECK(bt[1] == T1);
    CHECK(bt[2] == T2);   // 6.1.0-10 after 6.1.0-9
}

TEST_CASE("listings skip names dkms-run cannot have made and say so; planted links are found", "[tree]") {
    TreeFixture f;
    f.add({"foo", "1.0"});
    f.build({"foo", "1.0"}, T1);
    fs::create_directories(f.settings.dkms_tree / "evil\nnvidia" / "1.0");
    fs::create_directories(f.tree.module_dir("foo") / "2.0 x");
    fs::create_directories(f.tree.version_dir({"foo", "1.0"}) / T1.kver / "x$(y)");
    std::vector<std::string> garbage;
    CHECK(f.tree.modules(&garbage) == std::vector<std::string>{"foo"});
    CHECK(f.tree.versions("foo", &garbage) == std::vector<std::string>{"1.0"});
    CHECK(f.tree.built_targets({"foo", "1.0"}, &garbage) == std::vector<Target>{T1});
    REQUIRE(garbage.size() == 3);
    CHECK(garbage[0] == (f.settings.dkms_tree / "evil\\nnvidia").string() + ": ignored, the name contains a newline.");
    CHECK(garbage[1].find("2.0 x: ignored, the name contains whitespace.") != std::string::npos);

    CHECK(f.tree.planted_link({"foo", "1.0"}, &T1).empty());
    fs::path a = f.tree.built_dir({"foo", "1.0"}, T1);
    fs::rename(a, f.path() / "elsewhere");
    fs::create_symlink(f.path() / "elsewhere", a);
    CHECK(f.tree.planted_link({"foo", "1.0"}, &T1) == a);
    CHECK(f.tree.built_targets({"foo", "1.0"}).empty());   // a link is not a built instance
}

TEST_CASE("remove_empty_parents stops at the directory given, even when that one is empty too", "[tree]") {
    FakeRoot f;
    // A kernel whose package is gone: its directory holds nothing but what dkms-run installed.
    fs::path k = f.path() / "gone/lib/modules/K";
    fs::create_directories(k / "updates/dkms");
    remove_empty_parents(k / "updates/dkms", k);
    CHECK_FALSE(path_exists(k / "updates"));
    CHECK(dir_exists(k));  // not dkms-run's to remove, nor anything above it
    // A directory that is not empty ends it too.
    fs::create_directories(k / "extra/a/b");
    FakeRoot::write(k / "extra/keep", "");
    remove_empty_parents(k / "extra/a/b", k);
    CHECK_FALSE(path_exists(k / "extra/a"));
    CHECK(path_exists(k / "extra/keep"));
}

TEST_CASE("unsafe_path_below: lexically inside and through no symlink", "[tree]") {
    FakeRoot f;
    fs::path k = f.path() / "lib/modules/K";
    fs::create_directories(k / "updates/dkms");
    fs::create_directories(f.path() / "elsewhere");
    fs::create_symlink(f.path() / "elsewhere", k / "planted");
    fs::create_symlink("/usr/src", k / "build");
    CHECK(unsafe_path_below(k, k / "updates/dkms/foo.ko") == "");
    CHECK(unsafe_path_below(k / "", k / "updates/dkms/foo.ko") == "");
    CHECK(unsafe_path_below(k, k / "updates/../updates/dkms/foo.ko") == "");
    CHECK(unsafe_path_below(k, k / "../../../etc/passwd") == "is not inside " + k.string());
    CHECK(unsafe_path_below(k, k) == "is not inside " + k.string());
    CHECK(unsafe_path_below(k, "relative/foo.ko") == "is not inside " + k.string());
    CHECK(unsafe_path_below(k, k / "planted/foo.ko") == "passes through the symbolic link " + (k / "planted").string());
    CHECK(unsafe_path_below(k, k / "build/Makefile") == "passes through the symbolic link " + (k / "build").string());
    CHECK(unsafe_path_below(k, k / "planted") == "");   // the last component may be a link: unlink removes the link
    CHECK(first_symlink(k, "updates/dkms/foo.ko").empty());
    CHECK(first_symlink(k, "planted/x/y") == k / "planted");
}

TEST_CASE("manifests round-trip and corrupt ones are refused", "[tree]") {
    FakeRoot f;
    fs::path dir = f.path() / "built";
    fs::create_directories(dir);
    Manifest none;
    CHECK_FALSE(read_manifest(dir, none));
    Manifest m;
    m.module = "foo";
    m.version = "1.0";
    m.kernel = T1.kver;
    m.arch = T1.arch;
    m.make_command = "make -j2 KERNELRELEASE=" + T1.kver + " 'quoted: yes'";
    m.files = {{"foo.ko", std::string(64, 'a'), "/lib/modules/x/updates/dkms/foo.ko"}, {"bar.ko", std::string(64, 'b'), ""}};
    write_manifest(dir, m);
    Manifest back;
    REQUIRE(read_manifest(dir, back));
    CHECK(back.schema == 1);
    CHECK(back.module == "foo");
    CHECK(back.kernel == T1.kver);
    CHECK(back.make_command == m.make_command);
    REQUIRE(back.files.size() == 2);
    CHECK(back.files[0].name == "foo.ko");
    CHECK(back.files[0].installed_to == m.files[0].installed_to);
    CHECK(back.files[1].installed_to.empty());

    FakeRoot::write(dir / manifest_name, "schema: [unclosed\n");
    CHECK_THROWS_AS(read_manifest(dir, back), Error);
    FakeRoot::write(dir / manifest_name, "schema: 1\nmodule: foo\nfiles:\n  - name: ../../etc/passwd\n    sha256: x\n");
    CHECK_THROWS_AS(read_manifest(dir, back), Error);
    // Each of these is refused with the manifest's path in the message.
    const std::string head = "schema: 1\nmodule: foo\nversion: '1'\nkernel: k\narch: a\nfiles:\n";
    const std::string sum = std::string(64, 'a');
    for (std::string text : {std::string("[1, 2]\n"), std::string("schema: 2\nmodule: foo\nversion: '1'\nkernel: k\narch: a\n"),
                             head + "  - name: shadow\n    sha256: " + sum + "\n",
                             head + "  - name: foo.ko\n    sha256: XYZ\n",
                             head + "  - name: foo.ko\n    sha256: " + sum.substr(1) + "\n",   // 63 digits
                             head + "  - name: foo.ko\n    sha256: " + sum + "a\n",             // 65
                             head + "  - name: foo.ko\n    sha256: " + sum + "\n    installed_to: relative/foo.ko\n",
                             std::string(2 * 1024 * 1024, '#')}) {
        INFO(text.substr(0, 80));
        FakeRoot::write(dir / manifest_name, text);
        try {
            read_manifest(dir, back);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.lines().front().rfind((dir / manifest_name).string() + ": ", 0) == 0);
        }
    }
    // A FIFO in its place is refused, not waited on.
    fs::remove(dir / manifest_name);
    REQUIRE(mkfifo((dir / manifest_name).c_str(), 0644) == 0);
    CHECK_THROWS_AS(read_manifest(dir, back), Error);
}

TEST_CASE("status rows come from the tree alone, in dkms's order and words", "[tree][status]") {
    TreeFixture f;
    f.add({"foo", "1.0"});
    f.build({"foo", "1.0"}, T1);
    f.build({"foo", "1.0"}, T2);
    f.install({"foo", "1.0"}, T2);
    // The installed copy, where Debian puts it; status compares it with the build.
    fs::path installed = f.settings.install_tree / T2.kver / "updates/dkms/foo.ko";
    FakeRoot::write(installed, "ko");
    f.add({"bar", "3"});
    f.add({"gone", "1"});
    fs::remove_all(f.tree.source_dir({"gone", "1"}));
    Ops ops(f.ctx);
    auto rows = ops.status({});
    std::vector<std::string> lines;
    for (auto& r : rows) lines.push_back(format_status_line(r));
    CHECK(lines == std::vector<std::string>{"bar/3: added", "foo/1.0, 6.1.0-9-amd64, x86_64: built",
                                            "foo/1.0, 6.1.0-10-amd64, x86_64: installed", "gone/1: broken"});
    auto only = ops.status({"foo", "", T2.kver, ""});
    REQUIRE(only.size() == 1);
    CHECK(only[0].state == "installed");
    CHECK(ops.status({"nothing", "", "", ""}).empty());
    FakeRoot::write(installed, "changed by hand");
    CHECK(format_status_line(ops.status({"foo", "", T2.kver, ""}).at(0)) ==
          "foo/1.0, 6.1.0-10-amd64, x86_64: installed (Differences between built and installed modules)");
    auto json = format_status_json(only);
    CHECK(json.find("\"installed\"") != std::string::npos);
    CHECK(json.find(T2.kver) != std::string::npos);
}

TEST_CASE("status: a version built but not the one installed on a kernel is built there, not installed",
          "[tree][status]") {
    TreeFixture f;
    const ModuleId v1{"foo", "1.0"}, v2{"foo", "2.0"};
    f.add(v1);
    f.add(v2);
    f.build(v1, T1);
    f.build(v2, T1);
    f.build(v1, T2);
    f.install(v2, T1);
    f.install(v1, T2);
    for (auto& t : {T1, T2}) FakeRoot::write(f.settings.install_tree / t.kver / "updates/dkms/foo.ko", "ko");
    CHECK_FALSE(f.tree.is_installed(v1, T1));
    CHECK(f.tree.is_installed(v2, T1));
    CHECK(f.tree.is_installed(v1, T2));
    Ops ops(f.ctx);
    std::vector<std::string> lines;
    for (auto& r : ops.status({})) lines.push_back(format_status_line(r));
    CHECK(lines == std::vector<std::string>{"foo/1.0, 6.1.0-9-amd64, x86_64: built",
                                            "foo/1.0, 6.1.0-10-amd64, x86_64: installed",
                                            "foo/2.0, 6.1.0-9-amd64, x86_64: installed"});
    lines.clear();
    for (auto& r : ops.status({"foo", "1.0", T1.kver, ""})) lines.push_back(format_status_line(r));
    CHECK(lines == std::vector<std::string>{"foo/1.0, 6.1.0-9-amd64, x86_64: built"});
}

TEST_CASE("a manifest read again after it changed gives its new content", "[tree]") {
    FakeRoot r;
    fs::path dir = r.path() / "built";
    fs::create_directories(dir);
    Manifest m;
    m.module = "foo";
    m.version = "1.0";
    m.kernel = T1.kver;
    m.arch = T1.arch;
    m.files = {{"foo.ko", std::string(64, 'a'), ""}};
    write_manifest(dir, m);
    Manifest back;
    REQUIRE(read_manifest(dir, back));
    CHECK(back.files.front().installed_to.empty());
    m.files.front().installed_to = "/lib/modules/x/updates/dkms/foo.ko";  // as install records it
    write_manifest(dir, m);
    REQUIRE(read_manifest(dir, back));
    CHECK(back.files.front().installed_to == "/lib/modules/x/updates/dkms/foo.ko");
    // changed in place, same size (not as dkms-run writes it, but a file is what it holds now)
    std::string text = read_file(dir / manifest_name);
    text.replace(text.find("foo.ko"), 6, "fob.ko");
    { std::ofstream(dir / manifest_name, std::ios::binary | std::ios::trunc) << text; }
    REQUIRE(read_manifest(dir, back));
    CHECK(back.files.front().name == "fob.ko");
}

TEST_CASE("status: built modules recorded in the manifest but gone from module/", "[tree][status]") {
    TreeFixture f;
    const ModuleId id{"foo", "1.0"};
    f.add(id);
    f.build(id, T1);
    f.build(id, T2);
    f.install(id, T2);
    fs::path installed = f.settings.install_tree / T2.kver / "updates/dkms/foo.ko";
    FakeRoot::write(installed, "ko");
    for (auto& t : {T1, T2}) {
        Manifest m;
        m.module = id.name, m.version = id.version, m.kernel = t.kver, m.arch = t.arch;
        m.files = {{"foo.ko", sha256_file(f.tree.built_dir(id, t) / "module/foo.ko"),
                    t.kver == T2.kver ? installed.string() : ""},
                   {"foo-helper.ko", std::string(64, '0'), ""}};   // a valid checksum of a file that is gone
        write_manifest(f.tree.built_dir(id, t), m);
    }
    f.write(f.tree.built_dir(id, T1) / "module/foo-helper.ko", "ko2");
    Ops ops(f.ctx);
    auto line = [&](const Target& t) { return format_status_line(ops.status({"foo", "", t.kver, ""}).at(0)); };
    CHECK(line(T1) == "foo/1.0, 6.1.0-9-amd64, x86_64: built");
    // T2 lacks foo-helper.ko: said once; the installed foo.ko still matches its build.
    CHECK(line(T2) == "foo/1.0, 6.1.0-10-amd64, x86_64: installed (Built modules are missing in the kernel modules folder)");
    fs::remove(f.tree.built_dir(id, T1) / "module/foo.ko");
    CHECK(line(T1) == "foo/1.0, 6.1.0-9-amd64, x86_64: built (Built modules are missing in the kernel modules folder)");
}

TEST_CASE("status: a kernel filter shows every arch, an arch filter only that arch", "[tree][status]") {
    TreeFixture f;
    const ModuleId id{"foo", "1.0"};
    const Target other{T1.kver, "i686"};
    f.add(id);
    f.build(id, T1);
    f.build(id, other);
    Ops ops(f.ctx);
    CHECK(ops.status({"", "", T1.kver, ""}).size() == 2);
    auto one = ops.status({"", "", T1.kver, "i686"});
    REQUIRE(one.size() == 1);
    CHECK(one[0].target->arch == "i686");
}

TEST_CASE("Debian dkms's leftover prerm.d/dkms is recognised by its path only", "[tree][hooks]") {
    FakeRoot r;
    const fs::path root = r.settings.root;
    CHECK(legacy_prerm_hook(r.settings) == root / "etc/kernel/prerm.d/dkms");
    fs::create_directories(root / "etc/kernel/prerm.d");
    write_file_atomic(root / "etc/kernel/prerm.d/dkms", "#!/bin/sh\n", 0755);
    const std::string hook = (root / "etc/kernel/prerm.d/dkms").string();
    CHECK(is_legacy_prerm_hook(r.settings, {"/bin/sh", hook, "6.1.0-1-amd64", "/boot/vmlinuz-6.1.0-1-amd64"}));
    CHECK(is_legacy_prerm_hook(r.settings, {"sh", "-e", hook, "6.1.0-1-amd64"}));
    // through a symlinked directory, as /etc could be
    fs::create_directory_symlink(root / "etc", root / "etc-link");
    CHECK(is_legacy_prerm_hook(r.settings, {"sh", (root / "etc-link/kernel/prerm.d/dkms").string()}));
    CHECK_FALSE(is_legacy_prerm_hook(r.settings, {hook}));  // argv[0] alone is not a script argument
    CHECK_FALSE(is_legacy_prerm_hook(r.settings, {"sh", (root / "etc/kernel/prerm.d/dkms-run").string()}));
    CHECK_FALSE(is_legacy_prerm_hook(r.settings, {"sh", "etc/kernel/prerm.d/dkms"}));  // relative: not trusted
    CHECK_FALSE(is_legacy_prerm_hook(r.settings, {"sh", "/etc/kernel/prerm.d/dkms"}));  // another root's
    CHECK_FALSE(is_legacy_prerm_hook(r.settings, {}));
    CHECK(process_argv(int(getpid())).size() >= 1);
    CHECK(process_argv(-1).empty());
}
