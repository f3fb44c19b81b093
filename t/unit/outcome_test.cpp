// SPDX-License-Identifier: GPL-2.0-or-later
// The record of a build's last outcome: <v>/.dkms-run-builds/<K>/<A>/last-build.yaml and its make.log.
#include <catch2/catch.hpp>

#include "dkms/core/error.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/tree/outcome.hpp"
#include "dkms/tree/tree.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

const Target K1{"6.1.0-9-amd64", "x86_64"};
const Target K2{"6.1.0-10-amd64", "x86_64"};
const ModuleId FOO{"foo", "1.0"};

struct OutcomeFixture : FakeRoot {
    Tree tree{settings};
    OutcomeFixture() {
        fs::path src = tree.source_dir(FOO);
        write(src / "dkms.conf",
              "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=foo\n"
              "DEST_MODULE_LOCATION[0]=/updates/dkms\n");
        fs::create_directories(tree.version_dir(FOO));
        fs::create_symlink(src, tree.source_link(FOO));
    }
    BuildOutcome failed(const Target& t) const {
        BuildOutcome o;
        o.module = FOO.name;
        o.version = FOO.version;
        o.kernel = t.kver;
        o.arch = t.arch;
        o.result = "failed";
        o.exit_code = 10;
        o.step = "make";
        o.cause = "kernel-api";
        o.summary = "foo/1.0 does not compile against the API of kernel " + t.kver + ".";
        o.fix = "It needs a version of foo that supports kernel " + t.kver + ".";
        o.first_error = {
            "foo.c:3:1: error: implicit declaration of function \xE2\x80\x98"
            "bar\xE2\x80\x99",
            "    3 | bar();"};
        o.time = 1765038494;  // 2025-12-06T16:28:14Z
        return o;
    }
    fs::path make_log(const std::string& text) const {
        fs::path log = tree.build_dir(FOO) / "make.log";
        write(log, text);
        return log;
    }
};

bool same(const BuildOutcome& a, const BuildOutcome& b) {
    return a.schema == b.schema && a.module == b.module && a.version == b.version && a.kernel == b.kernel &&
           a.arch == b.arch && a.result == b.result && a.exit_code == b.exit_code && a.step == b.step &&
           a.cause == b.cause && a.summary == b.summary && a.fix == b.fix && a.first_error == b.first_error &&
           a.log == b.log && a.time == b.time;
}

}  // namespace

TEST_CASE("a failed build's record keeps a copy of its make.log", "[outcome]") {
    OutcomeFixture f;
    fs::path log = f.make_log("DKMS make.log\nerror\n");
    write_build_outcome(f.tree, f.failed(K1), log);
    fs::path dir = f.tree.version_dir(FOO) / ".dkms-run-builds" / K1.kver / K1.arch;
    CHECK(outcome_dir(f.tree, FOO, K1) == dir);
    CHECK(read_file(dir / "make.log") == "DKMS make.log\nerror\n");
    auto o = read_build_outcome(f.tree, FOO, K1);
    REQUIRE(o);
    BuildOutcome want = f.failed(K1);
    want.log = (dir / "make.log").string();
    CHECK(same(*o, want));
    // The next build of the version, for any kernel, empties build/: the copy stays.
    fs::remove(log);
    CHECK(path_exists(dir / "make.log"));
    // Written through temporary names: nothing else is left in the directory.
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"last-build.yaml", "make.log"});
}

TEST_CASE("the record is YAML with the time in UTC", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K1));
    std::string text = read_file(outcome_dir(f.tree, FOO, K1) / "last-build.yaml");
    CHECK(text ==
          "schema: 1\n"
          "module: \"foo\"\n"
          "version: \"1.0\"\n"
          "kernel: \"6.1.0-9-amd64\"\n"
          "arch: \"x86_64\"\n"
          "result: \"failed\"\n"
          "exit_code: 10\n"
          "step: \"make\"\n"
          "cause: \"kernel-api\"\n"
          "summary: \"foo/1.0 does not compile against the API of kernel 6.1.0-9-amd64.\"\n"
          "fix: \"It needs a version of foo that supports kernel 6.1.0-9-amd64.\"\n"
          "first_error:\n"
          "  - \"foo.c:3:1: error: implicit declaration of function \xE2\x80\x98"
          "bar\xE2\x80\x99\"\n"
          "  - \"    3 | bar();\"\n"
          "log: \"\"\n"
          "time: \"2025-12-06T16:28:14Z\"\n");
    CHECK(outcome_time_string(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("a successful build replaces a failure and its log", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K1), f.make_log("old failure\n"));
    BuildOutcome ok;
    ok.module = "foo", ok.version = "1.0", ok.kernel = K1.kver, ok.arch = K1.arch, ok.result = "built";
    ok.log = (f.tree.built_dir(FOO, K1) / "log/make.log").string();
    ok.time = 1765038500;
    write_build_outcome(f.tree, ok, f.make_log("this build\n"));
    auto o = read_build_outcome(f.tree, FOO, K1);
    REQUIRE(o);
    CHECK(same(*o, ok));
    CHECK_FALSE(path_exists(outcome_dir(f.tree, FOO, K1) / "make.log"));
}

TEST_CASE("a failure before make (no make.log) drops the log of an earlier failure", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K1), f.make_log("old failure\n"));
    BuildOutcome h = f.failed(K1);
    h.exit_code = 21, h.step = "", h.cause = "headers";
    write_build_outcome(f.tree, h, f.tree.build_dir(FOO) / "nonexistent.log");
    auto o = read_build_outcome(f.tree, FOO, K1);
    REQUIRE(o);
    CHECK(o->cause == "headers");
    CHECK(o->log == "");
    CHECK_FALSE(path_exists(outcome_dir(f.tree, FOO, K1) / "make.log"));
}

TEST_CASE("bytes that are not UTF-8 are kept as \\xNN", "[outcome]") {
    OutcomeFixture f;
    BuildOutcome o = f.failed(K1);
    o.first_error = {"caf\xE9.c:1:1: error: \x1b[31mred\x1b[0m"};
    write_build_outcome(f.tree, o);
    auto r = read_build_outcome(f.tree, FOO, K1);
    REQUIRE(r);
    CHECK(r->first_error == std::vector<std::string>{"caf\\xe9.c:1:1: error: \\x1b[31mred\\x1b[0m"});
}

TEST_CASE("records are listed in kernel order, and removed with their directories", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K2));
    write_build_outcome(f.tree, f.failed(K1));
    write_build_outcome(f.tree, f.failed({K1.kver, "i686"}));
    auto all = build_outcomes(f.tree, FOO);
    REQUIRE(all.size() == 3);
    CHECK((all[0].kernel == K1.kver && all[0].arch == "i686"));
    CHECK((all[1].kernel == K1.kver && all[1].arch == "x86_64"));
    CHECK(all[2].kernel == K2.kver);  // 6.1.0-10 after 6.1.0-9
    remove_build_outcome(f.tree, FOO, K1);
    remove_build_outcome(f.tree, FOO, {K1.kver, "i686"});
    CHECK_FALSE(path_exists(f.tree.version_dir(FOO) / ".dkms-run-builds" / K1.kver));
    remove_build_outcome(f.tree, FOO, K2);
    CHECK_FALSE(path_exists(f.tree.version_dir(FOO) / ".dkms-run-builds"));
    CHECK(real_dir_exists(f.tree.version_dir(FOO)));
    remove_build_outcome(f.tree, FOO, K2);  // nothing there: nothing happens
}

TEST_CASE("unreadable records read as absent, saying why", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K1));
    fs::path rec = outcome_dir(f.tree, FOO, K1) / "last-build.yaml";
    std::string why;
    FakeRoot::write(rec, "schema: 2\n");
    CHECK_FALSE(read_build_outcome(f.tree, FOO, K1, &why));
    CHECK(why == rec.string() + ": unreadable build record: schema 2 is not 1 (a newer dkms-run?)");
    FakeRoot::write(rec, "{{{");
    CHECK_FALSE(read_build_outcome(f.tree, FOO, K1, &why));
    CHECK(why.rfind(rec.string() + ": unreadable build record: ", 0) == 0);
    // A record copied from another kernel's directory describes that kernel, not this one.
    write_build_outcome(f.tree, f.failed(K2));
    fs::copy_file(outcome_dir(f.tree, FOO, K2) / "last-build.yaml", rec, fs::copy_options::overwrite_existing);
    CHECK_FALSE(read_build_outcome(f.tree, FOO, K1, &why));
    CHECK(why == rec.string() + ": unreadable build record: it describes foo/1.0 on 6.1.0-10-amd64 (x86_64)");
    CHECK(build_outcomes(f.tree, FOO).size() == 1);
}

TEST_CASE("records are never written through a planted link, nor for unsafe names", "[outcome]") {
    OutcomeFixture f;
    fs::path elsewhere = f.path() / "elsewhere";
    fs::create_directories(elsewhere);
    fs::create_directory_symlink(elsewhere, f.tree.version_dir(FOO) / ".dkms-run-builds");
    CHECK_THROWS_WITH(write_build_outcome(f.tree, f.failed(K1)),
                      "cannot record the build outcome of foo/1.0: " +
                          (f.tree.version_dir(FOO) / ".dkms-run-builds").string() + " is a symbolic link; remove it.");
    CHECK(fs::is_empty(elsewhere));
    BuildOutcome bad = f.failed(K1);
    bad.kernel = "../../etc";
    CHECK_THROWS_AS(write_build_outcome(f.tree, bad), Error);
    bad = f.failed(K1);
    bad.result = "maybe";
    CHECK_THROWS_AS(write_build_outcome(f.tree, bad), Error);
}

TEST_CASE("a record changes nothing dkms and dkms-run read from the tree", "[outcome]") {
    OutcomeFixture f;
    write_build_outcome(f.tree, f.failed(K1), f.make_log("log\n"));
    CHECK(f.tree.versions("foo") == std::vector<std::string>{"1.0"});
    CHECK(f.tree.built_targets(FOO).empty());
    CHECK_FALSE(f.tree.is_built(FOO, K1));
    Ops ops(f.ctx);
    auto rows = ops.status({});
    REQUIRE(rows.size() == 1);
    CHECK(format_status_line(rows[0]) == "foo/1.0: added");
    // remove takes the version away whole, records included.
    ops.remove(FOO, {});
    CHECK_FALSE(path_exists(f.tree.version_dir(FOO)));
    CHECK(f.report.out_lines == std::vector<std::string>{"Deleting module foo/1.0 completely from the DKMS tree."});
}
