// SPDX-License-Identifier: GPL-2.0-or-later
// The failure classifier on real make.log files (t/unit/data/makelogs/, made by its produce.sh: real
// failed builds with dkms-run against Debian 12's kernel headers), each compared whole with its
// expected diagnosis in t/unit/data/makelogs/expected/ (DKMS_UPDATE_GOLDEN=1 rewrites them).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "dkms/ops/diagnose.hpp"
#include "dkms/sys/fs.hpp"

using namespace dkms;

namespace {

const fs::path kData = fs::path(DKMS_SOURCE_ROOT) / "t/unit/data/makelogs";
const char* const kKernel = "6.1.0-57-amd64";
const char* const kKernelCc = "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0";

// What dkms-run knew when it built the case: its tree under /tmp/dkms-run-makelogs/<case>, the module
// and version of the log's first line, the kernel's compiler, and CC=gcc-12 in the environment.
BuildFacts facts_of(const std::string& name, const std::string& log) {
    std::string first = log.substr(0, log.find('\n'));
    auto from = first.find("make.log for ") + 13, to = first.find(" for kernel ");
    std::string mv = first.substr(from, to - from);
    BuildFacts f;
    f.module = mv.substr(0, mv.find('/'));
    f.version = mv.substr(mv.find('/') + 1);
    f.kernel = kKernel;
    f.kernel_cc = kKernelCc;
    f.cc = "gcc-12";
    fs::path root = fs::path("/tmp/dkms-run-makelogs") / name;
    f.source_dirs = {root / "var/lib/dkms" / f.module / f.version / "build",
                     root / "usr/src" / (f.module + "-" + f.version)};
    return f;
}

// A diagnosis as the expected files hold it: the fields, then the Why block.
std::string render(const Diagnosis& d, const fs::path& log) {
    std::string o = "cause: " + std::string(cause_name(d.cause)) + "\nstep: " + d.step + "\ndetail: " + d.step_detail +
                    "\nexit: " + std::to_string(d.exit_code) + "\nmissing: " + d.missing + "\npackage: " + d.package +
                    "\n";
    for (auto& l : why_block(d, log)) o += l + "\n";
    return o;
}

std::vector<std::string> cases() {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(kData))
        if (e.path().extension() == ".log") out.push_back(e.path().stem().string());
    std::sort(out.begin(), out.end());
    return out;
}

Diagnosis diagnose_case(const std::string& name) {
    std::string log = read_file(kData / (name + ".log"));
    return diagnose_make_log(log, facts_of(name, log));
}

}  // namespace

TEST_CASE("each real make.log gives its expected diagnosis, whole", "[diagnose]") {
    const bool update = std::getenv("DKMS_UPDATE_GOLDEN") != nullptr;
    std::vector<std::string> names = cases();
    REQUIRE(names.size() >= 30);
    for (auto& name : names) {
        DYNAMIC_SECTION(name) {
            std::string got = render(diagnose_case(name), "/var/lib/dkms/M/V/build/make.log");
            fs::path want_file = kData / "expected" / (name + ".txt");
            if (update) write_file_atomic(want_file, got);
            REQUIRE(path_exists(want_file));
            CHECK(got == read_file(want_file));
        }
    }
}

TEST_CASE("every cause has at least three real examples, named by their prefix", "[diagnose]") {
    // The data set's promise (README.md): <prefix>_<case>.log, and the prefix is the cause.
    const std::map<std::string, Cause> prefix{{"api", Cause::KernelApi},       {"headers", Cause::Headers},
                                              {"cc", Cause::Compiler},         {"tool", Cause::MissingTool},
                                              {"lib", Cause::MissingLibrary},  {"prebuild", Cause::PreBuild},
                                              {"postbuild", Cause::PostBuild}, {"patch", Cause::Patch},
                                              {"full", Cause::DiskFull},       {"unknown", Cause::Unknown}};
    std::map<Cause, int> count;
    for (auto& name : cases()) {
        auto it = prefix.find(name.substr(0, name.find('_')));
        REQUIRE(it != prefix.end());
        INFO(name);
        CHECK(diagnose_case(name).cause == it->second);
        ++count[it->second];
    }
    for (auto& [p, cause] : prefix) {
        INFO(p);
        CHECK(count[cause] >= 3);
    }
}

TEST_CASE("the real packages of issue 18 name the file, the line and the error", "[diagnose]") {
    Diagnosis razer = diagnose_case("api_openrazer");
    REQUIRE(razer.excerpt.size() >= 2);
    CHECK(razer.excerpt[1] ==
          "driver/razerkbd_driver.c:3124:29: error: too few arguments to function "
          "\xE2\x80\x98hid_report_raw_event\xE2\x80\x99");
    CHECK(razer.summary == "openrazer-driver/3.5.1 does not compile against the API of kernel 6.1.0-57-amd64.");
    Diagnosis librem = diagnose_case("api_librem");
    REQUIRE_FALSE(librem.excerpt.empty());
    CHECK(librem.excerpt[0].rfind("librem_ec_acpi.c:276:24: error: initialization of ", 0) == 0);
    CHECK(librem.cause == Cause::KernelApi);
}

TEST_CASE("a log of dkms 3.0 (no steps) is read as one make step", "[diagnose]") {
    std::string log =
        "DKMS make.log for foo-1.0 for kernel 6.1.0-9-amd64 (x86_64)\n"
        "Mon Jan  1 00:00:00 UTC 2024\n"
        "make: Entering directory '/usr/src/linux-headers-6.1.0-9-amd64'\n"
        "  CC [M]  /var/lib/dkms/foo/1.0/build/foo.o\n"
        "/var/lib/dkms/foo/1.0/build/foo.c:7:2: error: implicit declaration of function 'bar'\n"
        "make: *** [Makefile:1: all] Error 2\n";
    BuildFacts f{"foo", "1.0", "6.1.0-9-amd64", {"/var/lib/dkms/foo/1.0/build"}, "", ""};
    Diagnosis d = diagnose_make_log(log, f);
    CHECK(d.cause == Cause::KernelApi);
    CHECK(d.step == "make");
    CHECK(d.exit_code == 0);
    CHECK(d.excerpt == std::vector<std::string>{"foo.c:7:2: error: implicit declaration of function 'bar'"});
}

TEST_CASE("make -f of a missing makefile is no missing program", "[diagnose]") {
    std::string log =
        "DKMS make.log for foo-1.0 for kernel 6.1.0-9-amd64 (x86_64)\n"
        "Mon Jan  1 00:00:00 UTC 2024\n"
        "make: no-such-makefile: No such file or directory\n"
        "make: *** No rule to make target 'no-such-makefile'.  Stop.\n";
    BuildFacts f{"foo", "1.0", "6.1.0-9-amd64", {"/var/lib/dkms/foo/1.0/build"}, "", ""};
    Diagnosis d = diagnose_make_log(log, f);
    CHECK(d.cause == Cause::Unknown);
    CHECK(d.missing.empty());
    // while a program make cannot run is one
    d = diagnose_make_log("DKMS make.log for foo-1.0 for kernel 6.1.0-9-amd64 (x86_64)\n"
                          "Mon Jan  1 00:00:00 UTC 2024\n"
                          "make: flex: No such file or directory\n"
                          "make: *** [Makefile:3: lex.c] Error 127\n",
                          f);
    CHECK(d.cause == Cause::MissingTool);
    CHECK(d.missing == "flex");
}

TEST_CASE("kbuild's own warning names both compilers", "[diagnose]") {
    // The text of the kernel Makefile's check (Debian silences it; upstream and Ubuntu kernels print it).
    std::string log =
        "DKMS (dkms-3.4.3) make.log for foo/1.0 for kernel 6.8.0-1-generic (x86_64)\n\n\n"
        "Building module(s)\n# command: make -j4 KERNELRELEASE=6.8.0-1-generic\n"
        "warning: the compiler differs from the one used to build the kernel\n"
        "  The kernel was built by: x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0\n"
        "  You are using:           gcc-12 (Ubuntu 12.3.0-17ubuntu1) 12.3.0\n"
        "gcc-12: error: unrecognized command-line option '-fmin-function-alignment=16'\n"
        "\n# exit code: 2\n";
    BuildFacts f{"foo", "1.0", "6.8.0-1-generic", {}, "", ""};
    Diagnosis d = diagnose_make_log(log, f);
    CHECK(d.cause == Cause::Compiler);
    CHECK(d.summary ==
          "Kernel 6.8.0-1-generic was built by x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0; "
          "this build used gcc-12.");
    CHECK(d.package == "gcc-13");
}

TEST_CASE("the failed step is the first with a non-zero exit code", "[diagnose]") {
    std::string log =
        "header\ndate\n\nApplying patch a.patch\n# command: patch -p1 < ./patches/a.patch\n"
        "patching file a.c\n\n# exit code: 0\n# elapsed time: 00:00:00\n----\n\n"
        "Applying patch b.patch\n# command: patch -p1 < ./patches/b.patch\n"
        "patching file b.c\nHunk #2 FAILED at 40.\n\n# exit code: 1\n";
    Diagnosis d = diagnose_make_log(log, {"m", "1", "6.1.0-9-amd64", {}, "", ""});
    CHECK(d.cause == Cause::Patch);
    CHECK(d.step_detail == "b.patch");
    CHECK(d.exit_code == 1);
    CHECK(d.excerpt == std::vector<std::string>{"Hunk #2 FAILED at 40."});
}

TEST_CASE("long lines are cut, invalid text is kept as it was", "[diagnose]") {
    std::string path = "/var/lib/dkms/m/1/build/";
    std::string msg(400, 'x');
    std::string log =
        "h\nd\n\nBuilding module(s)\n# command: make\n" + path + "m.c:1:1: error: " + msg + "\n\n# exit code: 2\n";
    Diagnosis d = diagnose_make_log(log, {"m", "1", "K", {"/var/lib/dkms/m/1/build/"}, "", ""});
    REQUIRE(d.excerpt.size() == 1);
    CHECK(d.excerpt[0] == ("m.c:1:1: error: " + msg).substr(0, 300) + "...");
}

TEST_CASE("an error before make: headers missing is the headers cause", "[diagnose]") {
    Error e(ExitCode::HeadersMissing,
            {"Your kernel headers for kernel 6.1.0-9-amd64 cannot be found at X or Y.",
             "Please install your distribution's kernel headers package matching 6.1.0-9-amd64, "
             "or use the --kernelsourcedir option to tell DKMS where it's located."});
    Diagnosis d = diagnose_error(e, {"m", "1", "6.1.0-9-amd64", {}, "", ""});
    CHECK(d.cause == Cause::Headers);
    CHECK(d.exit_code == 21);
    CHECK(d.excerpt == e.lines());
    CHECK(d.fix == "apt-get install --reinstall linux-headers-6.1.0-9-amd64, then build again.");
    Diagnosis other = diagnose_error(Error(ExitCode::BadConf, "Bad conf file."), {"m", "1", "K", {}, "", ""});
    CHECK(other.cause == Cause::Unknown);
}

TEST_CASE("the package table", "[diagnose]") {
    CHECK(package_for_program("bc") == "bc");
    CHECK(package_for_program("flex") == "flex");
    CHECK(package_for_program("bison") == "bison");
    CHECK(package_for_program("xz") == "xz-utils");
    CHECK(package_for_program("autoreconf") == "autoconf");
    CHECK(package_for_program("frobnicate") == "");
    CHECK(package_for_header("xtables.h") == "libxtables-dev");
    CHECK(package_for_header("gelf.h") == "libelf-dev");
    CHECK(package_for_header("libelf.h") == "libelf-dev");
    CHECK(package_for_header("openssl/ssl.h") == "libssl-dev");
    CHECK(package_for_header("linux/genhd.h") == "");
    CHECK(package_for_pkgconfig("libelf") == "libelf-dev");
    CHECK(package_for_pkgconfig("xtables") == "libxtables-dev");
    CHECK(package_for_pkgconfig("nothing") == "");
}

TEST_CASE("cause names go both ways", "[diagnose]") {
    for (Cause c : {Cause::KernelApi, Cause::Headers, Cause::Compiler, Cause::MissingTool, Cause::MissingLibrary,
                    Cause::PreBuild, Cause::PostBuild, Cause::Patch, Cause::DiskFull, Cause::Unknown})
        CHECK(cause_from_name(cause_name(c)) == c);
    CHECK(cause_name(Cause::KernelApi) == "kernel-api");
    CHECK_FALSE(cause_from_name("kernel api").has_value());
}

TEST_CASE("the summary table of autoinstall", "[diagnose]") {
    std::vector<std::string> t = outcome_table({
        {"openrazer-driver", "3.5.1", "failed",
         "kernel-api: openrazer-driver/3.5.1 does not compile against the API of "
         "kernel 6.1.0-57-amd64."},
        {"hello", "1.0", "installed", ""},
    });
    CHECK(t ==
          std::vector<std::string>{
              "Module            Version  Result     Cause",
              "openrazer-driver  3.5.1    failed     kernel-api: openrazer-driver/3.5.1 does not compile against the "
              "API of kernel 6.1.0-57-amd64.",
              "hello             1.0      installed"});
}
