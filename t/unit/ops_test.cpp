// SPDX-License-Identifier: GPL-2.0-or-later
// build, install, uninstall, unbuild and remove without kernel headers or make: the state each
// leaves in the trees, what it says, and what a failure at each step leaves (FakeProcesses).
#include <csignal>

#include <catch2/catch.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include "dkms/core/error.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/sys/fs.hpp"
#include "ops_fixture.hpp"

using namespace dkms;
using dkms::test::FakeProcesses;
using dkms::test::fake_module_image;
using dkms::test::make_writes;
using dkms::test::FakeRoot;
using dkms::test::OpsRoot;
using Lines = std::vector<std::string>;

namespace {

const std::string K = dkms::test::kKernel;
const std::string KA = K + " (x86_64)";

/// The temporary directories the engine makes while it works (staging, renames), left anywhere below `dir`.
std::vector<fs::path> leftovers(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        if (n.rfind(".tmp", 0) == 0 || n.find(".tmp-") != std::string::npos) out.push_back(it->path());
    }
    return out;
}

/// An executable script (mode 0700) in a module's source.
void write_script(const fs::path& p, const std::string& text) {
    OpsRoot::write(p, text);
    fs::permissions(p, fs::perms::owner_all);
}

/// A script of `module_dir` that never ends, and its fake run: stopped at its timeout (128+SIGTERM,
/// timed_out), after noting in `given` the timeout it was run with.
void add_hanging_script(OpsRoot& r, const std::string& module_dir, const std::string& name, std::chrono::seconds& given) {
    write_script(r.settings.source_tree / module_dir / name, "#!/bin/sh\nsleep 100000\n");
    r.procs.on(name, [&given](const ProcessSpec& p) {
        given = p.timeout;
        ProcessResult res;
        res.status = 128 + SIGTERM;
        res.timed_out = true;
        return res;
    });
}

/// The error an operation throws.
template <typename F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("no Error was thrown");
    return Error(ExitCode::Ok, "");
}

}  // namespace

TEST_CASE("build runs make in a copy of the source and stages the module with its manifest", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.build(foo, r.T);
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           " done."});
    CHECK(r.err().empty());
    CHECK(r.commands() == Lines{"bash -c " + r.make_command(foo), "strip -g @ROOT@/var/lib/dkms/foo/1.0/build/foo.ko"});
    CHECK(r.procs.calls().front().cwd == r.tree.build_dir(foo));
    CHECK(r.tree.is_built(foo, r.T));
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    fs::path bdir = r.tree.built_dir(foo, r.T);
    CHECK(read_file(bdir / "module/foo.ko") == fake_module_image({"version=1.0", "srcversion=foo1.0"}));
    Manifest man;
    REQUIRE(read_manifest(bdir, man));
    REQUIRE(man.files.size() == 1);
    CHECK(man.files[0].name == "foo.ko");
    CHECK(man.files[0].sha256 == sha256_file(bdir / "module/foo.ko"));
    CHECK(man.files[0].installed_to.empty());
    CHECK(read_file(bdir / "log/make.log").find("fake run of: make -j3 KERNELRELEASE=" + K) != std::string::npos);
    // The build directory is emptied; nothing temporary is left.
    CHECK(fs::is_empty(r.tree.build_dir(foo)));
    CHECK(leftovers(r.settings.dkms_tree).empty());
}

TEST_CASE("a build record's temporaries left by a killed run are swept by the next one", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops(r.ctx).build(foo, r.T);
    fs::path records = outcome_dir(r.tree, foo, r.T);
    REQUIRE(path_exists(records / "last-build.yaml"));
    // what a dkms-run killed while it wrote the record (crash-points found it) or its log copy leaves
    FakeRoot::write(records / ".last-build.yaml.tmp-Ab12Cd", "half");
    FakeRoot::write(records / ".make.log.tmp-Xy34Zw", "half");
    FakeRoot::write(records / ".last-build.yaml.tmp-notmine", "not a name dkms-run makes");
    r.out();
    Ops(r.ctx).build(foo, r.T);  // built already: it says so, after sweeping
    CHECK_FALSE(path_exists(records / ".last-build.yaml.tmp-Ab12Cd"));
    CHECK_FALSE(path_exists(records / ".make.log.tmp-Xy34Zw"));
    CHECK(path_exists(records / ".last-build.yaml.tmp-notmine"));
    CHECK(path_exists(records / "last-build.yaml"));
}

TEST_CASE("a failing make leaves no build, and its make.log", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    r.procs.on("/foo/1.0/build", 2);
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.build(foo, r.T); });
    CHECK(e.code() == ExitCode::BuildFailed);
    fs::path log = r.tree.build_dir(foo) / "make.log";
    Lines lines{"Bad return status for module build on kernel: " + KA,
                "Consult " + r.rooted(log.string()) + " for more information."};
    for (auto& l : r.why_unknown(foo, r.make_command(foo))) lines.push_back(l);
    Lines got;
    for (auto& l : e.lines()) got.push_back(r.rooted(l));
    CHECK(got == lines);
    CHECK(e.log() == log);  // the failed step's log, as a field (not only in the text)
    CHECK(read_build_outcome(r.tree, foo, r.T)->cause == "unknown");
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           "(bad exit status: 2)", "Failed command:", r.make_command(foo)});
    CHECK_FALSE(r.tree.is_built(foo, r.T));
    CHECK_FALSE(path_exists(r.tree.kernel_dir(foo, K) / "x86_64"));
    CHECK(read_file(log).find("# exit code: 2") != std::string::npos);
    CHECK(leftovers(r.settings.dkms_tree).empty());
}

TEST_CASE("a make that succeeds without the module, or makes it a symbolic link, builds nothing", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    r.procs.on("/foo/1.0/build", make_writes({{"other.ko", "x"}}));
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.build(foo, r.T); });
    CHECK(e.code() == ExitCode::ModuleMissing);
    Lines got;
    for (auto& l : e.lines()) got.push_back(r.rooted(l));
    CHECK(got == Lines{"Build of foo.ko failed for: " + KA,
                       "Make sure the name and location of the generated module are correct,",
                       "or consult @ROOT@/var/lib/dkms/foo/1.0/build/make.log for more information."});
    CHECK_FALSE(read_build_outcome(r.tree, foo, r.T));  // not a failed step: dkms's lines say it all
    CHECK(e.log().empty());
    r.procs.on("/foo/1.0/build", [](const ProcessSpec& p) {
        fs::create_symlink("/etc/shadow", *p.cwd / "foo.ko");
        return ProcessResult{};
    });
    e = error_of([&] { ops.build(foo, r.T); });
    CHECK(e.code() == ExitCode::ModuleMissing);
    CHECK(e.lines().front() == "Build of foo.ko failed for: " + KA + ": " + (r.tree.build_dir(foo) / "foo.ko").string() +
                                   " is a symbolic link (to /etc/shadow).");
    CHECK_FALSE(r.tree.is_built(foo, r.T));
}

TEST_CASE("a module already built is skipped unless forced; a forced build makes it again", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.build(foo, r.T);
    r.out();
    ops.build(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 already built for kernel " + KA +
                           ", skip. You may override by specifying --force."});
    CHECK(r.procs.count("make ") == 1);
    ops.build(foo, r.T, {.force = true});
    CHECK(r.out() == Lines{"Building module(s)...", " done."});
    CHECK(r.procs.count("make ") == 2);
    CHECK(r.tree.is_built(foo, r.T));
}

TEST_CASE("a failing POST_BUILD takes the build away again", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0", "POST_BUILD=post.sh\n");
    write_script(r.settings.source_tree / "foo-1.0/post.sh", "#!/bin/sh\nexit 3\n");
    r.procs.on("post.sh", 3);
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.build(foo, r.T); });
    CHECK(int(e.code()) == 3);
    CHECK(e.lines().empty());
    CHECK(e.log() == r.tree.build_dir(foo) / "make.log");
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           " done.", "Running the post_build script...", "(bad exit status: 3)", "Failed command:",
                           "cd @ROOT@/var/lib/dkms/foo/1.0/build/ && @ROOT@/var/lib/dkms/foo/1.0/build/post.sh",
                           "Consult @ROOT@/var/lib/dkms/foo/1.0/build/make.log for more information."});
    CHECK_FALSE(r.tree.is_built(foo, r.T));
    CHECK_FALSE(path_exists(r.tree.built_dir(foo, r.T)));
}

TEST_CASE("a dkms.conf script past script_timeout is stopped and said so; a PRE_INSTALL's stop aborts", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0", "POST_INSTALL=post.sh\n");
    r.settings.script_timeout = 7;
    std::chrono::seconds given{-1};
    add_hanging_script(r, "foo-1.0", "post.sh", given);
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    CHECK(given == std::chrono::seconds(7));
    CHECK(r.err() == Lines{"Warning: The post_install script was still running after 7 seconds (script_timeout in "
                           "framework.conf): it and what it started were stopped."});
    CHECK(r.tree.is_installed(foo, r.T));  // as dkms: a failing POST_INSTALL does not undo the install

    OpsRoot s;
    ModuleId bar = s.add_module("bar", "1.0", "PRE_INSTALL=pre.sh\n");
    add_hanging_script(s, "bar-1.0", "pre.sh", given);
    Ops ops2(s.ctx);
    Error e = error_of([&] { ops2.install(bar, s.T); });
    CHECK(given == std::chrono::seconds(1800));  // the default
    CHECK(e.code() == ExitCode::PreInstallFailed);
    CHECK_FALSE(s.tree.is_installed(bar, s.T));
}

TEST_CASE("a missing BUILD_DEPENDS stops the build before make", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0", "BUILD_DEPENDS[0]=bar\n");
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.build(foo, r.T); });
    CHECK(e.code() == ExitCode::MissingDepends);
    CHECK(e.lines() == Lines{"Aborting build of module foo/1.0 for kernel " + KA + " due to missing BUILD_DEPENDS: bar.",
                             "You may override by specifying --force."});
    CHECK(r.procs.commands().empty());
}

TEST_CASE("install builds when needed, copies the module, records it and switches the kernel link last", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           " done.", "Installing @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko",
                           "Running depmod... done."});
    CHECK(r.err().empty());
    CHECK(r.tree.is_installed(foo, r.T));
    CHECK(fs::read_symlink(r.tree.installed_link("foo", r.T)) == fs::path("1.0") / K / "x86_64");
    CHECK(same_bytes(r.installed_file("foo"), r.tree.built_dir(foo, r.T) / "module/foo.ko"));
    Manifest man;
    REQUIRE(read_manifest(r.tree.built_dir(foo, r.T), man));
    CHECK(man.files.at(0).installed_to == r.installed_file("foo").string());
    CHECK(leftovers(r.path()).empty());
}

TEST_CASE("install --force reinstalls without rebuilding (the nested build gets its own options)", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    r.settings.force = true;  // the command line's --force
    Ops ops(r.ctx);
    ops.install(foo, r.T);    // not built: built once, not "rebuilt"
    CHECK(r.procs.count("make ") == 1);
    r.out();
    ops.install(foo, r.T);    // installed: uninstalled and installed again from the same build
    CHECK(r.procs.count("make ") == 1);
    CHECK(r.out() == Lines{"Module foo/1.0 for kernel " + KA + ":",
                           "Before uninstall, this module version was ACTIVE on this kernel.",
                           "Deleting @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko", "Running depmod... done.", "",
                           "Installing @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko", "Running depmod... done."});
    CHECK(r.settings.force);  // nothing changed the settings on the way
    CHECK(r.tree.is_installed(foo, r.T));
}

TEST_CASE("an install whose copy fails half-way is undone: no file, no link, the manifest forgets", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0",
                                "BUILT_MODULE_NAME[1]=foo2\nDEST_MODULE_LOCATION[1]=/updates/dkms\n");
    r.procs.on("/foo/1.0/build", make_writes({{"foo.ko", fake_module_image({"version=1.0"})},
                                              {"foo2.ko", fake_module_image({"version=1.0"})}}));
    // Where the second module goes there is a directory with something in it: its rename fails.
    OpsRoot::write(r.kdir() / "updates/dkms/foo2.ko/keep", "not a module");
    Ops ops(r.ctx);
    CHECK_THROWS_AS(ops.install(foo, r.T), SystemError);
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           " done.", "Installing @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko",
                           "Installing @ROOT@/lib/modules/" + K + "/updates/dkms/foo2.ko"});
    CHECK(r.err() == Lines{"The install of foo/1.0 for " + KA + " failed; what it had changed in @ROOT@/lib/modules/" +
                           K + " was undone."});
    CHECK_FALSE(path_exists(r.installed_file("foo")));
    CHECK(read_file(r.kdir() / "updates/dkms/foo2.ko/keep") == "not a module");
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    CHECK_FALSE(link_exists(r.tree.installed_link("foo", r.T)));
    CHECK(r.tree.is_built(foo, r.T));
    Manifest man;
    REQUIRE(read_manifest(r.tree.built_dir(foo, r.T), man));
    for (auto& f : man.files) CHECK(f.installed_to.empty());
    CHECK(leftovers(r.path()).empty());
}

TEST_CASE("an install refused by the version check changes nothing", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    // The kernel has a newer foo of its own.
    OpsRoot::write(r.kdir() / "kernel/drivers/foo.ko", fake_module_image({"version=2.0", "srcversion=kernel"}));
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.install(foo, r.T); });
    CHECK(e.code() == ExitCode::InstallFailed);
    CHECK(e.lines() == Lines{"Installation aborted."});
    CHECK(r.err() == Lines{"", "Error! Module version 1.0 for foo.ko",
                           "is not newer than what is already found in kernel " + K + " (2.0).",
                           "You may override by specifying --force."});
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    CHECK(r.tree.is_built(foo, r.T));
    CHECK_FALSE(path_exists(r.installed_file("foo")));
    // --force-version-override: installed beside it.
    ops.install(foo, r.T, {.force_version = true});
    CHECK(r.tree.is_installed(foo, r.T));
    CHECK(path_exists(r.kdir() / "kernel/drivers/foo.ko"));
}

TEST_CASE("a failing depmod uninstalls the module again", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    OpsRoot::write(r.kdir() / "modules.dep", "");
    r.procs.on("depmod", 1);
    Ops ops(r.ctx);
    Error e = error_of([&] { ops.install(foo, r.T); });
    CHECK(e.code() == ExitCode::InstallFailed);
    CHECK(e.lines() == Lines{"Problems with depmod detected.  Automatically uninstalling this module."});
    CHECK(r.commands().back() == "depmod -b @ROOT@ -a " + K);
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    CHECK_FALSE(path_exists(r.installed_file("foo")));
}

// What a kill between an install's copy and its link leaves in the manifest: the destination of the
// module's file recorded, no link.
static Manifest manifest_naming_install(OpsRoot& r, const fs::path& bdir) {
    Manifest man;
    REQUIRE(read_manifest(bdir, man));
    man.files.at(0).installed_to = r.installed_file("foo").string();
    write_manifest(bdir, man);
    return man;
}

TEST_CASE("an install killed before its link: the next run takes its file away", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.build(foo, r.T);
    // What a kill between the copy and the link leaves: the file, named by the manifest, and no link.
    fs::path bdir = r.tree.built_dir(foo, r.T);
    Manifest man = manifest_naming_install(r, bdir);
    OpsRoot::write(r.installed_file("foo"), read_file(bdir / "module/foo.ko"));
    CHECK(r.tree.is_built(foo, r.T));
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    r.out();
    Ops next(r.ctx);
    next.uninstall(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 is not installed for kernel " + KA + ". Skipping..."});
    CHECK_FALSE(path_exists(r.installed_file("foo")));
    REQUIRE(read_manifest(bdir, man));
    CHECK(man.files.at(0).installed_to.empty());
}

TEST_CASE("the repair of an install killed before its link leaves a file that is not its bytes", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.build(foo, r.T);
    // The manifest says the killed install put foo.ko there, but the file there now is another one
    // (put by hand or by a package after the kill): not ours, so the repair must keep it.
    fs::path bdir = r.tree.built_dir(foo, r.T);
    Manifest man = manifest_naming_install(r, bdir);
    OpsRoot::write(r.installed_file("foo"), "someone else's foo");
    r.out();
    Ops next(r.ctx);
    next.uninstall(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 is not installed for kernel " + KA + ". Skipping..."});
    CHECK(r.err().empty());
    CHECK(read_file(r.installed_file("foo")) == "someone else's foo");
    // The manifest forgets the destination all the same: the file is no longer its own.
    REQUIRE(read_manifest(bdir, man));
    CHECK(man.files.at(0).installed_to.empty());
    // And an install, which repairs first too, keeps it as well (the version check then refuses
    // nothing: the foreign file has no version).
    next.install(foo, r.T);
    CHECK(r.tree.is_installed(foo, r.T));
    CHECK(same_bytes(r.installed_file("foo"), bdir / "module/foo.ko"));
}

TEST_CASE("an in-kernel module of the same version but another srcversion is replaced, as in dkms 3.4", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");  // built with srcversion=foo1.0
    fs::path in_kernel = r.kdir() / "kernel/drivers/foo.ko";
    const std::string kernel_bytes = fake_module_image({"version=1.0", "srcversion=kernel"});
    OpsRoot::write(in_kernel, kernel_bytes);
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    CHECK(r.out() == Lines{"Module signing is disabled by policy, modules won't be signed", "", "Building module(s)...",
                           " done.", "Installing @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko",
                           "Running depmod... done."});
    CHECK(r.err().empty());
    CHECK(r.tree.is_installed(foo, r.T));
    CHECK(same_bytes(r.installed_file("foo"), r.tree.built_dir(foo, r.T) / "module/foo.ko"));
    CHECK(read_file(in_kernel) == kernel_bytes);  // Debian: the kernel's own stays, updates/dkms wins
}

TEST_CASE("an older in-kernel module is replaced; the same version and srcversion is refused", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    fs::path in_kernel = r.kdir() / "kernel/drivers/foo.ko";
    OpsRoot::write(in_kernel, fake_module_image({"version=0.9", "srcversion=kernel"}));
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    CHECK(r.err().empty());
    CHECK(r.tree.is_installed(foo, r.T));
    CHECK(path_exists(r.installed_file("foo")));

    // Compare: the identical version and srcversion in the kernel is refused (the install-details
    // scenario checks the same with real modules).
    OpsRoot s;
    ModuleId bar = s.add_module("bar", "1.0");  // built with srcversion=bar1.0
    fs::path same = s.kdir() / "kernel/drivers/bar.ko";
    OpsRoot::write(same, fake_module_image({"version=1.0", "srcversion=bar1.0"}));
    Ops ops2(s.ctx);
    Error e = error_of([&] { ops2.install(bar, s.T); });
    CHECK(e.code() == ExitCode::InstallFailed);
    CHECK(s.err() == Lines{"Module @ROOT@/lib/modules/" + K +
                           "/kernel/drivers/bar.ko already installed at version 1.0, override by specifying --force"});
    CHECK_FALSE(s.tree.is_installed(bar, s.T));
}

TEST_CASE("install writes the manifest once for all its files, not once per file", "[ops]") {
    OpsRoot r;
    const int n = 12;
    std::string extra;
    std::vector<std::pair<std::string, std::string>> kos;
    for (int i = 0; i < n; ++i) {
        std::string name = "m" + std::to_string(i);
        extra += "BUILT_MODULE_NAME[" + std::to_string(i + 1) + "]=" + name + "\nDEST_MODULE_LOCATION[" +
                 std::to_string(i + 1) + "]=/updates/dkms\n";
        kos.push_back({name + ".ko", fake_module_image({"version=1.0", "srcversion=" + name})});
    }
    ModuleId foo = r.add_module("foo", "1.0", extra);
    kos.push_back({"foo.ko", fake_module_image({"version=1.0"})});
    r.procs.on("/foo/1.0/build", make_writes(kos));
    Ops ops(r.ctx);
    ops.build(foo, r.T);
    // Each write of the manifest is a rename onto its name (write_file_atomic): count them. The
    // temporary names' IN_MOVED_FROM in between keep inotify from merging the identical events.
    fs::path bdir = r.tree.built_dir(foo, r.T);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(inotify_add_watch(fd, bdir.c_str(), IN_MOVED_FROM | IN_MOVED_TO) >= 0);
    ops.install(foo, r.T);
    int writes = 0;
    alignas(inotify_event) char buf[65536];
    for (ssize_t len; (len = read(fd, buf, sizeof buf)) > 0;)
        for (char* p = buf; p < buf + len; p += sizeof(inotify_event) + reinterpret_cast<inotify_event*>(p)->len)
            if (auto* e = reinterpret_cast<inotify_event*>(p); (e->mask & IN_MOVED_TO) && std::string(e->name) == manifest_name)
                ++writes;
    close(fd);
    CHECK(writes == 1);
    CHECK(r.tree.is_installed(foo, r.T));
    Manifest man;
    REQUIRE(read_manifest(bdir, man));
    CHECK(man.files.size() == n + 1);
    for (auto& f : man.files) CHECK(same_bytes(f.installed_to, bdir / "module" / f.name));
}

TEST_CASE("uninstall deletes what it installed, and only what is still its bytes", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    r.out();
    ops.uninstall(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 for kernel " + KA + ":",
                           "Before uninstall, this module version was ACTIVE on this kernel.",
                           "Deleting @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko", "Running depmod... done."});
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
    CHECK(r.tree.is_built(foo, r.T));
    CHECK_FALSE(path_exists(r.installed_file("foo")));
    CHECK_FALSE(path_exists(r.kdir() / "updates"));  // the directories it made, empty, are gone

    ops.install(foo, r.T);
    OpsRoot::write(r.installed_file("foo"), "someone else's foo");
    r.out();
    ops.uninstall(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 for kernel " + KA + ":",
                           "Before uninstall, this module version was ACTIVE on this kernel.",
                           "Module foo.ko was not found within @ROOT@/lib/modules/" + K + "/", "Running depmod... done."});
    CHECK(r.err() == Lines{"Warning: Not deleting @ROOT@/lib/modules/" + K +
                           "/updates/dkms/foo.ko: it is not the file foo/1.0 installed there."});
    CHECK(read_file(r.installed_file("foo")) == "someone else's foo");
    CHECK_FALSE(r.tree.is_installed(foo, r.T));
}

TEST_CASE("unbuild uninstalls, then takes the build away; remove takes the version out of the tree", "[ops]") {
    OpsRoot r;
    ModuleId foo = r.add_module("foo", "1.0");
    Ops ops(r.ctx);
    ops.install(foo, r.T);
    r.out();
    ops.unbuild(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 for kernel " + KA + ":",
                           "Before uninstall, this module version was ACTIVE on this kernel.",
                           "Deleting @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko", "Running depmod... done."});
    CHECK_FALSE(r.tree.is_built(foo, r.T));
    CHECK_FALSE(path_exists(r.tree.kernel_dir(foo, K)));
    CHECK(r.tree.is_added(foo));
    ops.unbuild(foo, r.T);
    CHECK(r.out() == Lines{"Module foo/1.0 is not installed for kernel " + KA + ". Skipping...",
                           "Module foo/1.0 is not built for kernel " + KA + ". Skipping..."});

    ops.install(foo, r.T);
    r.out();
    ops.remove(foo, {r.T});
    CHECK(r.out() == Lines{"Module foo/1.0 for kernel " + KA + ":",
                           "Before uninstall, this module version was ACTIVE on this kernel.",
                           "Deleting @ROOT@/lib/modules/" + K + "/updates/dkms/foo.ko", "Running depmod... done.", "",
                           "Deleting module foo/1.0 completely from the DKMS tree."});
    CHECK_FALSE(r.tree.is_added(foo));
    CHECK_FALSE(path_exists(r.tree.module_dir("foo")));
    CHECK(path_exists(r.settings.source_tree / "foo-1.0/dkms.conf"));  // the source stays
    CHECK(leftovers(r.path()).empty());
}
