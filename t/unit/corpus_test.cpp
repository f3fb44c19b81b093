// SPDX-License-Identifier: GPL-2.0-or-later
// The two dkms.conf readers over the real dkms.conf of every Debian bookworm *-dkms package,
// plus handcrafted plain files: where a file is plain, both readers must agree.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "dkms/conf/raw_conf.hpp"

namespace fs = std::filesystem;
using namespace dkms;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<fs::path> corpus_files() {
    std::vector<fs::path> v;
    for (auto& e : fs::directory_iterator(DKMS_CORPUS_DIR))
        if (e.path().filename().string().size() > 10 &&
            e.path().filename().string().rfind(".dkms.conf") == e.path().filename().string().size() - 10)
            v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

ShellPresets presets_for(const std::string& module, const std::string& version) {
    return {{"kernelver", "6.1.0-56-amd64"},
            {"arch", "x86_64"},
            {"kernel_source_dir", "/lib/modules/6.1.0-56-amd64/build"},
            {"dkms_tree", "/var/lib/dkms"},
            {"source_tree", "/usr/src"},
            {"install_tree", "/lib/modules"},
            {"module", module},
            {"module_version", version}};
}

RawVars only(const RawVars& v, const std::vector<std::string>& names) {
    RawVars r;
    for (auto& n : names)
        if (auto it = v.find(n); it != v.end()) r[n] = it->second;
    return r;
}

std::string show(const RawVars& v) {
    std::string s;
    for (auto& [n, m] : v)
        for (auto& [i, x] : m) s += n + "[" + std::to_string(i) + "]=<" + x + ">\n";
    return s;
}

}  // namespace

TEST_CASE("corpus: every file evaluates with bash and names a package", "[corpus]") {
    auto files = corpus_files();
    REQUIRE(files.size() >= 30);
    for (auto& f : files) {
        INFO(f.filename().string());
        DeclConf d = read_declarative(slurp(f), presets_for("", ""));
        RawVars v;
        REQUIRE_NOTHROW(v = evaluate_shell({f}, presets_for(raw_get(d.vars, "PACKAGE_NAME"),
                                                            raw_get(d.vars, "PACKAGE_VERSION")),
                                           dkms_conf_directives()));
        CHECK_FALSE(raw_get(v, "PACKAGE_NAME").empty());
        CHECK_FALSE(raw_get(v, "PACKAGE_VERSION").empty());
        for (auto& [name, idx] : v) {
            CHECK(std::find(dkms_conf_directives().begin(), dkms_conf_directives().end(), name) !=
                  dkms_conf_directives().end());
            CHECK_FALSE(idx.empty());
        }
    }
}

TEST_CASE("corpus: plain files read the same with and without bash", "[corpus]") {
    int plain = 0;
    for (auto& f : corpus_files()) {
        INFO(f.filename().string());
        std::string text = slurp(f);
        DeclConf d0 = read_declarative(text, presets_for("", ""));
        ShellPresets p = presets_for(raw_get(d0.vars, "PACKAGE_NAME"), raw_get(d0.vars, "PACKAGE_VERSION"));
        DeclConf d = read_declarative(text, p);
        if (!d.plain()) continue;
        ++plain;
        RawVars shell = evaluate_shell({f}, p, dkms_conf_directives());
        RawVars decl = only(d.vars, dkms_conf_directives());
        INFO("declarative:\n" << show(decl) << "bash:\n" << show(shell));
        CHECK(decl == shell);
        CHECK(evaluate_config({f}, p, dkms_conf_directives()) == shell);   // the runtime's reader
        CHECK(d.line_of("PACKAGE_NAME") > 0);
        CHECK(d.line_of("PACKAGE_VERSION") > 0);
    }
    CHECK(plain >= 20);
    CHECK(plain == 23);   // corpus/README.md: 23 of the 30 files are plain
}

TEST_CASE("corpus: files with real shell are reported with a plausible line", "[corpus]") {
    struct Known {
        const char* file;
        int line;            // the first construct that needs a shell
        const char* what;
    };
    const Known known[] = {
        {"lttng-modules-dkms.dkms.conf", 8, "if statement"},
        {"iptables-netflow-dkms.dkms.conf", 2, "command 'pushd'"},
        {"openafs-modules-dkms.dkms.conf", 8, "command substitution"},
        {"ddcci-dkms.dkms.conf", 13, "if statement"},
        {"digimend-dkms.dkms.conf", 5, "if statement"},
        {"v4l2loopback-dkms.dkms.conf", 4, "if statement"},
        {"west-chamber-dkms.dkms.conf", 9, "command substitution"},
    };
    std::set<std::string> expected;
    for (const Known& k : known) {
        INFO(k.file);
        expected.insert(k.file);
        std::string text = slurp(fs::path(DKMS_CORPUS_DIR) / k.file);
        DeclConf d = read_declarative(text, presets_for("", ""));
        REQUIRE_FALSE(d.plain());
        CHECK(d.needs_shell.front().line == k.line);
        CHECK(d.needs_shell.front().what == k.what);
        int lines = int(std::count(text.begin(), text.end(), '\n'));
        for (auto& n : d.needs_shell) {
            CHECK(n.line >= 1);
            CHECK(n.line <= lines);
            CHECK_FALSE(n.what.empty());
        }
    }
    // And no other corpus file needs a shell.
    for (auto& f : corpus_files()) {
        INFO(f.filename().string());
        CHECK(read_declarative(slurp(f)).plain() == !expected.count(f.filename().string()));
    }
    // Assignments ahead of the first construct are still read, with their lines.
    DeclConf lttng = read_declarative(slurp(fs::path(DKMS_CORPUS_DIR) / "lttng-modules-dkms.dkms.conf"));
    CHECK(raw_get(lttng.vars, "PACKAGE_NAME") == "lttng-modules");
    CHECK(lttng.line_of("PACKAGE_VERSION") == 2);
    // The modules counted by $i are not taken as plain assignments.
    CHECK_FALSE(lttng.vars.count("BUILT_MODULE_NAME"));
}

TEST_CASE("corpus: bash sees what the shell-only files compute", "[corpus]") {
    fs::path dir = DKMS_CORPUS_DIR;
    RawVars lttng = evaluate_shell({dir / "lttng-modules-dkms.dkms.conf"}, presets_for("lttng-modules", "2.13.9"),
                                   dkms_conf_directives());
    CHECK(raw_get(lttng, "BUILT_MODULE_NAME", 0) == "lttng-lib-ring-buffer");
    CHECK(lttng.at("BUILT_MODULE_NAME").size() >= 10);
    CHECK(raw_get(lttng, "MAKE").find("M=/var/lib/dkms/lttng-modules/2.13.9/build") != std::string::npos);

    RawVars afs = evaluate_shell({dir / "openafs-modules-dkms.dkms.conf"}, presets_for("openafs", "1.8.9"),
                                 dkms_conf_directives());
    CHECK(raw_get(afs, "MAKE").find("--with-afs-sysname=amd64_linux26") != std::string::npos);
    CHECK(raw_get(afs, "BUILT_MODULE_NAME") == "openafs");

    RawVars netflow = evaluate_shell({dir / "iptables-netflow-dkms.dkms.conf"}, presets_for("ipt-netflow", "2.6"),
                                     dkms_conf_directives());
    CHECK(raw_get(netflow, "PACKAGE_VERSION") == "2.6");   // pushd/popd output went nowhere
}

TEST_CASE("handcrafted plain files read the same with and without bash", "[corpus][declarative][shell]") {
    const char* texts[] = {
        "PACKAGE_NAME=\"foo\"   # c\nPACKAGE_VERSION='1.0'\nMAKE[0]=make\\ all\nCLEAN=a\"b\"'c'd#x\n",
        "MAKE[0]=\"make \\\n   all RTP=\\\"v\\\" \\$x \\\\ \\n \\. done\"\nCLEAN=un\\\nsplit\n"
        "PRE_BUILD='no \\ escapes \"here\" $x'\nPOST_BUILD=\"a\nb\"\n",
        "A[3]=three\nB=\"${A[3]}-$A[3]-${A}-${kernelver[0]}-${kernelver[1]}\"\n"
        "C=\"cost \\$5 and $ alone and a$ \\a \\' '\"\nkernelver=mine\nD=$kernelver\n"
        "E=x${kernel_source_dir}y$dkms_tree.$UNSET_X.\n",
        "DEST=(/extra \"/up dates\" '' # comment\n [10]=ten eleven)\nS=x\nS[2]=y\nR=(1 2 3)\nR=(only)\n"
        "E=(x)\nE=()\nV=\nW=($V \"$V\")\nP=a\nP+=b\nQ=(q0)\nQ+=(q1 q2)\nexport X=exp Y\nreadonly Z=ro\n",
        "A=\"x\"\r\nB=1\r\n# c\r\nC[1]='x'\r\nD=\"a\rb\"\r\n",
        "A=1; B=2 ;C=3\n  D=4\t# x\n\tE='\t'\n",
        "A=a:\\~x\nB='~'\nC=\"~\"\nD=x~\n",
        "A=\"!x\" B=*.c C=[ab] D=\"{a,b}\" E={a,b}\n",
    };
    std::vector<std::string> names = {"A", "B", "C", "D", "E", "S", "R", "V", "W", "P", "Q", "X", "Y", "Z",
                                      "DEST", "MAKE", "CLEAN", "PRE_BUILD", "POST_BUILD", "PACKAGE_NAME",
                                      "PACKAGE_VERSION"};
    ShellPresets p = {{"kernelver", "6.1.0-56-amd64"}, {"kernel_source_dir", "/lib/modules/K/build"},
                      {"dkms_tree", "/var/lib/dkms"}};
    fs::path tmp = fs::temp_directory_path() / ("dkms-corpus-test-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    int n = 0;
    for (const char* t : texts) {
        INFO(t);
        DeclConf d = read_declarative(t, p);
        for (auto& ns : d.needs_shell) UNSCOPED_INFO(ns.line << ": " << ns.what);
        CHECK(d.plain());
        fs::path f = tmp / ("t" + std::to_string(n++) + ".conf");
        std::ofstream(f, std::ios::binary) << t;
        RawVars shell = evaluate_shell({f}, p, names);
        RawVars decl = only(d.vars, names);
        INFO("declarative:\n" << show(decl) << "bash:\n" << show(shell));
        CHECK(decl == shell);
    }
    fs::remove_all(tmp);
}
