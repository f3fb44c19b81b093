// SPDX-License-Identifier: GPL-2.0-or-later
// A binary module package (mkbmdeb's) beside the *-dkms package of the same module: found in dpkg's
// database of the root, and then dkms-run neither builds nor installs over it, never deletes its
// files, and status says which package provides the module.
#include <algorithm>

#include <catch2/catch.hpp>

#include "dkms/ops/autoinstall.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

const std::string K1 = "6.1.0-57-amd64", K2 = "6.1.0-58-amd64";

/// A root with kernels K1 and K2 (fake headers), foo/1.0 added with AUTOINSTALL, and a dpkg database.
struct Client : FakeRoot {
    Tree tree{settings};
    ModuleId foo{"foo", "1.0"};
    std::string arch = machine_arch();
    Client() {
        add_kernel(K1);
        add_kernel(K2);
        fs::path src = tree.source_dir(foo);
        write(src / "dkms.conf", "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=foo\n"
                                 "DEST_MODULE_LOCATION[0]=/updates/dkms\nAUTOINSTALL=yes\n");
        fs::create_directories(tree.version_dir(foo));
        fs::create_symlink(src, tree.source_link(foo));
        write(path() / "var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n");
    }
    /// dpkg installed package `pkg` (version v) with foo.ko for each kernel given.
    void dpkg_install(const std::string& pkg, const std::string& v, const std::vector<std::string>& kernels) {
        std::string list = "/.\n/lib\n/lib/modules\n";
        for (auto& k : kernels) {
            list += "/lib/modules/" + k + "\n/lib/modules/" + k + "/updates/dkms\n/lib/modules/" + k +
                    "/updates/dkms/foo.ko\n";
            write(settings.install_tree / k / "updates/dkms/foo.ko", "package's foo");
        }
        write(path() / "var/lib/dpkg/info" / (pkg + ".list"), list + "/usr/share/doc/" + pkg + "/copyright\n");
        std::string status = read_file(path() / "var/lib/dpkg/status");
        write(path() / "var/lib/dpkg/status",
              status + "Package: " + pkg + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + v +
                  "\n\n");
    }
    std::vector<std::string> status_lines() {
        Ops ops(ctx);
        std::vector<std::string> out;
        for (auto& e : ops.status({})) out.push_back(format_status_line(e));
        return out;
    }
};

}  // namespace

TEST_CASE("the package that provides a module for a kernel is read from dpkg's database", "[provided]") {
    Client c;
    CHECK_FALSE(binary_package_providing(c.settings, "foo", K1));
    c.dpkg_install("foo-modules-" + K1, "1.0", {K1});
    auto p = binary_package_providing(c.settings, "foo", K1);
    REQUIRE(p);
    CHECK(p->package == "foo-modules-" + K1);
    CHECK(p->version == "1.0");
    CHECK(p->files == std::vector<fs::path>{c.settings.install_tree / K1 / "updates/dkms/foo.ko"});
    CHECK_FALSE(binary_package_providing(c.settings, "foo", K2));
    CHECK_FALSE(binary_package_providing(c.settings, "bar", K1));
    // The files must be on disk: after dpkg removed them the package provides nothing.
    fs::remove(c.settings.install_tree / K1 / "updates/dkms/foo.ko");
    CHECK_FALSE(binary_package_providing(c.settings, "foo", K1));
    // Another install tree than <root>/lib/modules is not where dpkg puts them.
    Client d;
    d.dpkg_install("foo-modules", "1.0+k6.1.0.58.amd64.2.0123abcd", {K1, K2});
    REQUIRE(binary_package_providing(d.settings, "foo", K2));
    CHECK(binary_package_providing(d.settings, "foo", K2)->package == "foo-modules");
    d.settings.install_tree = d.path() / "elsewhere";
    CHECK_FALSE(binary_package_providing(d.settings, "foo", K2));
}

TEST_CASE("status: a kernel whose module a package provides", "[provided]") {
    Client c;
    CHECK(c.status_lines() == std::vector<std::string>{"foo/1.0: added"});
    const std::string pkg = "foo-modules 1.0+k6.1.0.58.amd64.2.0123abcd";
    c.dpkg_install("foo-modules", "1.0+k6.1.0.58.amd64.2.0123abcd", {K2});
    CHECK(c.status_lines() ==
          std::vector<std::string>{"foo/1.0, " + K2 + ", " + c.arch + ": provided (by package " + pkg + ")"});
    // Built for it (before the package came): the built row says so.
    fs::create_directories(c.tree.built_dir(c.foo, {K2, c.arch}) / "module");
    FakeRoot::write(c.tree.built_dir(c.foo, {K2, c.arch}) / "module/foo.ko", "ours");
    CHECK(c.status_lines() ==
          std::vector<std::string>{"foo/1.0, " + K2 + ", " + c.arch + ": built (Provided by package " + pkg + ")"});
    Ops ops(c.ctx);
    // Nothing built or provided for K1: dkms's "added" row (status -k answers "is M/V known here?").
    auto k1 = ops.status({"foo", "", K1, ""});
    REQUIRE(k1.size() == 1);
    CHECK(format_status_line(k1.front()) == "foo/1.0: added");
    auto rows = ops.status({"foo", "1.0", K2, ""});
    REQUIRE(rows.size() == 1);
    CHECK(format_status_json(rows) ==
          "{\"schema\": 2, \"modules\": [\n  {\"module\": \"foo\", \"version\": \"1.0\", \"kernel\": \"" + K2 +
              "\", \"arch\": \"" + c.arch +
              "\", \"state\": \"built\", \"notes\": [\"Provided by package " + pkg + "\"]}\n], \"builds\": []}");
}

TEST_CASE("install refuses to go over a module a package provides, before building", "[provided]") {
    Client c;
    c.dpkg_install("foo-modules-" + K1, "1.0", {K1});
    Ops ops(c.ctx);
    try {
        ops.install(c.foo, {K1, c.arch});
        FAIL("install went ahead");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::InstallFailed);
        CHECK(e.lines() == std::vector<std::string>{
                               "The package foo-modules-" + K1 + " 1.0 provides the modules of foo for kernel " + K1 +
                                   ": dkms-run does not install foo/1.0 over files that dpkg owns.",
                               "Remove that package (apt-get remove foo-modules-" + K1 +
                                   ") to have dkms-run install foo/1.0 for " + K1 + "."});
    }
    CHECK_FALSE(c.tree.is_built(c.foo, {K1, c.arch}));
    CHECK(read_file(c.settings.install_tree / K1 / "updates/dkms/foo.ko") == "package's foo");
}

TEST_CASE("autoinstall leaves a kernel whose module a package provides to the package", "[provided]") {
    Client c;
    c.dpkg_install("foo-modules-" + K1, "1.0", {K1});
    CHECK(autoinstall(c.ctx, {K1, c.arch}) == ExitCode::Ok);
    CHECK(c.report.out_lines == std::vector<std::string>{
                                    "Skipping foo/1.0 for kernel " + K1 + " (" + c.arch +
                                        "): the package foo-modules-" + K1 + " (1.0) provides its modules.",
                                    "Autoinstall on " + K1 + " was skipped for module(s) foo."});
    CHECK(c.report.err_lines.empty());
    CHECK_FALSE(c.tree.is_built(c.foo, {K1, c.arch}));
}

TEST_CASE("uninstall never deletes a module file that a package owns now", "[provided]") {
    Client c;
    Target t{K1, c.arch};
    // dkms-run installed foo (manifest and link), then dpkg unpacked the package over that path.
    fs::path bdir = c.tree.built_dir(c.foo, t);
    FakeRoot::write(bdir / "module/foo.ko", "ours");
    fs::path dst = c.settings.install_tree / K1 / "updates/dkms/foo.ko";
    Manifest man{1, "foo", "1.0", K1, c.arch, "make", {{"foo.ko", sha256_file(bdir / "module/foo.ko"), dst.string()}}};
    write_manifest(bdir, man);
    fs::create_symlink(fs::path("1.0") / K1 / c.arch, c.tree.installed_link("foo", t));
    c.dpkg_install("foo-modules-" + K1, "1.0", {K1});
    c.settings.no_depmod = true;
    Ops ops(c.ctx);
    ops.uninstall(c.foo, t);
    CHECK(read_file(dst) == "package's foo");
    CHECK_FALSE(c.tree.is_installed(c.foo, t));
    CHECK(c.report.out_lines == std::vector<std::string>{
                                    "Module foo/1.0 for kernel " + K1 + " (" + c.arch + "):",
                                    "Before uninstall, this module version was ACTIVE on this kernel.",
                                    "Keeping " + dst.string() + ": the package foo-modules-" + K1 + " owns it now.",
                                    "Running depmod... done."});  // dkms prints it with --no-depmod too
}

TEST_CASE("the package helper (postinst) does not build for kernels a package provides", "[provided]") {
    Client c;
    c.dpkg_install("foo-modules", "1.0+k6.1.0.58.amd64.2.0123abcd", {K1, K2});
    Ops ops(c.ctx);
    CHECK(ops.postinst(c.foo) == ExitCode::Ok);
    const std::string pkg = "the package foo-modules (1.0+k6.1.0.58.amd64.2.0123abcd) provides its modules.";
    // What comes before "Building for" (re-adding foo/1.0) is the remove and add verbs' own output.
    auto from = std::find(c.report.out_lines.begin(), c.report.out_lines.end(), "Building for " + K1 + " and " + K2);
    CHECK(std::vector<std::string>(from, c.report.out_lines.end()) ==
          std::vector<std::string>{"Building for " + K1 + " and " + K2,
                                   "Skipping foo/1.0 for kernel " + K1 + " (" + c.arch + "): " + pkg,
                                   "Skipping foo/1.0 for kernel " + K2 + " (" + c.arch + "): " + pkg});
    CHECK(c.report.err_lines.empty());
    CHECK(c.tree.built_targets(c.foo).empty());
}
