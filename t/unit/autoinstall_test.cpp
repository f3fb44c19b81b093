// SPDX-License-Identifier: GPL-2.0-or-later
// autoinstall (kernel_postinst) over the fake processes: BUILD_DEPENDS order, failures and what
// depends on them, deferred dependencies, one depmod per kernel, the whole output.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "dkms/ops/autoinstall.hpp"
#include "dkms/sys/fs.hpp"
#include "ops_fixture.hpp"

using namespace dkms;
using dkms::test::OpsRoot;
using Lines = std::vector<std::string>;

namespace {

const std::string K = dkms::test::kKernel;
const std::string KA = K + " (x86_64)";

/// Module m's block: its build's lines, its install, `extra` (depmod in the last block), a blank line.
Lines block(const std::string& m, const Lines& build, const Lines& extra = {}) {
    Lines l{"Autoinstall of module " + m + "/1.0 for kernel " + KA};
    l.insert(l.end(), build.begin(), build.end());
    l.push_back("Installing @ROOT@/lib/modules/" + K + "/updates/dkms/" + m + ".ko");
    l.insert(l.end(), extra.begin(), extra.end());
    l.push_back("");
    return l;
}

const Lines kBuilt{"Building module(s)...", " done."};
const Lines kPrologue{"Module signing is disabled by policy, modules won't be signed", ""};

Lines concat(std::initializer_list<Lines> parts) {
    Lines out;
    for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("autoinstall builds BUILD_DEPENDS first and installs each module once it is built", "[autoinstall]") {
    OpsRoot r;
    r.settings.jobs = 1;  // one at a time: the order is the one the scheduler chose
    r.add_module("a", "1.0");
    r.add_module("b", "1.0", "BUILD_DEPENDS[0]=a\n");
    r.add_module("c", "1.0");
    // b's make must find a installed.
    bool a_there = false;
    r.procs.on("/b/1.0/build", [&](const ProcessSpec& p) {
        a_there = path_exists(r.installed_file("a"));
        return dkms::test::make_writes({{"b.ko", dkms::test::fake_module_image({"version=1.0"})}})(p);
    });
    OpsRoot::write(r.kdir() / "modules.dep", "");
    CHECK(autoinstall(r.ctx, r.T) == ExitCode::Ok);
    CHECK(a_there);
    CHECK(r.out() == concat({kPrologue, block("a", kBuilt), block("b", kBuilt), block("c", kBuilt, {"Running depmod...", " done."}),
                             {"Autoinstall on " + K + " succeeded for module(s) a b c."}}));
    CHECK(r.err().empty());
    CHECK(r.procs.count("depmod") == 1);  // once for the kernel, not after each install
    for (auto m : {"a", "b", "c"}) CHECK(r.tree.is_installed({m, "1.0"}, r.T));
    // A budget of one job: no jobserver, make -j1.
    CHECK(r.procs.count("make -j1 KERNELRELEASE=") == 3);
}

TEST_CASE("with a budget of several jobs, each make joins the transaction's jobserver", "[autoinstall]") {
    OpsRoot r;
    r.settings.jobs = 3;
    r.add_module("a", "1.0");
    r.add_module("c", "1.0");
    unsetenv("MAKEFLAGS");
    CHECK(autoinstall(r.ctx, r.T) == ExitCode::Ok);
    size_t makes = 0;
    for (auto& c : r.procs.calls()) {
        if (c.command().find("make ") == std::string::npos) continue;
        ++makes;
        CHECK(c.command().find("bash -c make KERNELRELEASE=" + K + " ") == 0);  // no -j of its own
        REQUIRE_FALSE(c.env.empty());
        CHECK(c.env.back().first == "MAKEFLAGS");
        CHECK(c.env.back().second.rfind("-j --jobserver-auth=", 0) == 0);
    }
    CHECK(makes == 2);
}

TEST_CASE("a failed build fails autoinstall (11); what depends on it is not built; the others are", "[autoinstall]") {
    OpsRoot r;
    r.settings.jobs = 1;
    r.add_module("a", "1.0");
    r.add_module("b", "1.0", "BUILD_DEPENDS[0]=a\n");
    r.add_module("c", "1.0");
    r.procs.on("/a/1.0/build", 2);
    CHECK(autoinstall(r.ctx, r.T) == ExitCode::AutoinstallFailed);
    CHECK(r.out() == concat({kPrologue,
                             {"Autoinstall of module a/1.0 for kernel " + KA, "Building module(s)...",
                              "(bad exit status: 2)", "Failed command:", r.make_command({"a", "1.0"}, "-j1"),
                              ""},
                             block("c", kBuilt, {"Running depmod... done."}),
                             {"Autoinstall on " + K + " succeeded for module(s) c.",
                              "Autoinstall on " + K + " failed for module(s) a(10).",
                              "b/1.0 autoinstall failed due to missing dependencies: a.", "",
                              "Modules for kernel " + KA + ":", "Module  Version  Result     Cause",
                              "a       1.0      failed     unknown: dkms-run does not recognise this error.",
                              "b       1.0      not built", "c       1.0      installed"}}));
    CHECK(r.err() == concat({{"", "Error! Bad return status for module build on kernel: " + KA,
                              "Consult @ROOT@/var/lib/dkms/a/1.0/build/make.log for more information."},
                             r.why_unknown({"a", "1.0"}, r.make_command({"a", "1.0"}, "-j1")),
                             {"", "Error! One or more modules failed to install during autoinstall.",
                              "Refer to previous errors for more information."}}));
    CHECK(r.procs.count("/b/1.0/build") == 0);
    CHECK(r.tree.is_installed({"c", "1.0"}, r.T));
    CHECK_FALSE(r.tree.is_built({"a", "1.0"}, r.T));
}

TEST_CASE("a BUILD_DEPENDS no module of the tree provides defers the module; installed ones count as done",
          "[autoinstall]") {
    OpsRoot r;
    r.add_module("a", "1.0", "BUILD_DEPENDS[0]=elsewhere\n");
    ModuleId c = r.add_module("c", "1.0");
    Ops(r.ctx).install(c, r.T);
    r.out();
    size_t before = r.procs.calls().size();
    CHECK(autoinstall(r.ctx, r.T) == ExitCode::Ok);
    CHECK(r.out() == Lines{"Autoinstall on " + K + " succeeded for module(s) c.",
                           "a/1.0 autoinstall deferred: BUILD_DEPENDS not registered with DKMS: elsewhere.",
                           "Autoinstall on " + K + " deferred module(s) a/1.0 due to BUILD_DEPENDS not yet registered "
                           "with DKMS.",
                           "These may be provided externally or by a package not yet configured; autoinstall will "
                           "retry on the next trigger."});
    CHECK(r.procs.calls().size() == before);  // nothing was run
}

TEST_CASE("autoinstall without headers for a module to build stops with 21", "[autoinstall]") {
    OpsRoot r;
    r.add_module("a", "1.0");
    fs::remove_all(r.kdir() / "build/include");
    CHECK(autoinstall(r.ctx, r.T) == ExitCode::HeadersMissing);
    CHECK(r.out().empty());
    CHECK(r.err() == Lines{"", "Error! Your kernel headers for kernel " + K + " cannot be found at @ROOT@/lib/modules/" +
                               K + "/build or @ROOT@/lib/modules/" + K + "/source.",
                           "Please install your distribution's kernel headers package matching " + K +
                               ", or use the --kernelsourcedir option to tell DKMS where it's located."});
    CHECK(r.procs.calls().empty());
}
