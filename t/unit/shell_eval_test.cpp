// SPDX-License-Identifier: GPL-2.0-or-later
// evaluate_shell: one bash per read, whitelist only, functions and other variables discarded.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "dkms/core/error.hpp"
#include "dkms/conf/raw_conf.hpp"

namespace fs = std::filesystem;
using namespace dkms;

namespace {

// A private temporary directory, removed at the end of the test case.
struct TempDir {
    fs::path dir;
    TempDir() {
        static std::atomic<int> n{0};
        dir = fs::temp_directory_path() /
              ("dkms-shell-eval-" + std::to_string(getpid()) + "-" + std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        fs::path p = dir / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

// Run fn with our stdout redirected to a file; return what was written to it.
template <class F>
std::string capture_stdout(const TempDir& t, F fn) {
    fs::path p = t.dir / "captured-stdout";
    fflush(stdout);
    int saved = dup(1);
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    try {
        fn();
    } catch (...) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        throw;
    }
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<std::string> kWl = {"PACKAGE_NAME", "PACKAGE_VERSION", "MAKE", "BUILT_MODULE_NAME",
                                      "DEST_MODULE_LOCATION", "CLEAN", "STRIP"};

}  // namespace

TEST_CASE("evaluate_shell reads scalars and sparse arrays", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf",
                     "PACKAGE_NAME=foo\n"
                     "PACKAGE_VERSION=\"1.0\"\n"
                     "BUILT_MODULE_NAME[0]=a\n"
                     "BUILT_MODULE_NAME[5]=b\n"
                     "BUILT_MODULE_NAME[12]=c\n"
                     "DEST_MODULE_LOCATION=(/extra '' /updates)\n");
    RawVars v = evaluate_shell({f}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(v, "PACKAGE_VERSION") == "1.0");
    REQUIRE(v.count("BUILT_MODULE_NAME"));
    CHECK(v.at("BUILT_MODULE_NAME") == std::map<std::size_t, std::string>{{0, "a"}, {5, "b"}, {12, "c"}});
    CHECK(v.at("DEST_MODULE_LOCATION") ==
          std::map<std::size_t, std::string>{{0, "/extra"}, {1, ""}, {2, "/updates"}});
    CHECK(raw_get(v, "BUILT_MODULE_NAME", 4) == "");
    CHECK_FALSE(v.count("MAKE"));   // never set: absent, not empty
    CHECK_FALSE(v.count("CLEAN"));
}

TEST_CASE("evaluate_shell discards functions, other variables and stdout", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf",
                     "PACKAGE_NAME=foo\n"
                     "PRIVATE=secret\n"
                     "printf() { echo HIJACKED; }\n"
                     "builtin() { echo HIJACKED; }\n"
                     "do_status() { echo HIJACKED; }\n"
                     "echo 'noise on stdout'\n"
                     "MAKE=\"make $PRIVATE\"\n");
    std::string out;
    RawVars v;
    out = capture_stdout(t, [&] { v = evaluate_shell({f}, {}, {"PACKAGE_NAME", "MAKE", "PRIVATE_NOT_LISTED"}); });
    CHECK(out.empty());
    CHECK(v == RawVars{{"PACKAGE_NAME", {{0, "foo"}}}, {"MAKE", {{0, "make secret"}}}});
    CHECK_FALSE(v.count("PRIVATE"));
}

TEST_CASE("a function from one file has no effect on the next file or on the result", "[shell]") {
    TempDir t;
    // Same shape as upstream's "framework file hijacking" test.
    auto a = t.write("a.conf", "do_status() { dkms_tree=/hijacked; }\nprintf() { :; }\nsource_tree=/srv/src\n");
    auto b = t.write("b.conf",
                     "if declare -F do_status >/dev/null || declare -F printf >/dev/null; then\n"
                     "  dkms_tree=/function-leaked\n"
                     "fi\n"
                     "do_status 2>/dev/null\n");
    RawVars v = evaluate_shell({a, b}, {}, framework_conf_settings());
    CHECK(v == RawVars{{"source_tree", {{0, "/srv/src"}}}});
}

TEST_CASE("later files see earlier whitelisted values only", "[shell]") {
    TempDir t;
    auto a = t.write("a.conf", "PACKAGE_NAME=foo\nHELPER=xyz\nMAKE[3]=m3\n");
    auto b = t.write("b.conf",
                     "PACKAGE_VERSION=\"seen:${PACKAGE_NAME}:${HELPER-unset}:${MAKE[3]}\"\n"
                     "CLEAN=\"$(declare -p HELPER 2>&1 >/dev/null | wc -l)\"\n");
    RawVars v = evaluate_shell({a, t.dir / "missing.conf", b}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(v, "PACKAGE_VERSION") == "seen:foo:unset:m3");
    CHECK(raw_get(v, "CLEAN") == "1");   // declare -p failed: HELPER does not exist
    CHECK(raw_get(v, "MAKE", 3) == "m3");
}

TEST_CASE("a later file overrides per index, and cannot unset", "[shell]") {
    TempDir t;
    auto a = t.write("a.conf", "MAKE[0]=a0\nMAKE[1]=a1\nCLEAN=c\n");
    auto b = t.write("b.conf", "MAKE[1]=b1\nunset CLEAN\n");
    RawVars v = evaluate_shell({a, b}, {}, kWl);
    CHECK(v.at("MAKE") == std::map<std::size_t, std::string>{{0, "a0"}, {1, "b1"}});
    // As in dkms: the values of each file are added to the parent shell, never removed.
    CHECK(raw_get(v, "CLEAN") == "c");
}

TEST_CASE("presets are visible, plain and unexported; whitelisted presets start unset", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf",
                     "MAKE=\"make -C ${kernel_source_dir} KVER=$kernelver\"\n"
                     "CLEAN=\"$(bash -c 'echo \"[${kernelver-notexported}]\"')\"\n"
                     "STRIP=\"${PACKAGE_NAME-was-unset}\"\n");
    ShellPresets p = {{"kernelver", "6.1.0-56-amd64"},
                      {"kernel_source_dir", "/lib/modules/6.1.0-56-amd64/build"},
                      {"PACKAGE_NAME", "preset-value"}};
    RawVars v = evaluate_shell({f}, p, kWl);
    CHECK(raw_get(v, "MAKE") == "make -C /lib/modules/6.1.0-56-amd64/build KVER=6.1.0-56-amd64");
    CHECK(raw_get(v, "CLEAN") == "[notexported]");
    CHECK(raw_get(v, "STRIP") == "was-unset");
    CHECK_FALSE(v.count("PACKAGE_NAME"));
}

TEST_CASE("preset values are quoted, never evaluated", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf", "MAKE=\"$weird\"\n");
    std::string weird = "a'b\"c $(touch " + (t.dir / "pwned").string() + ") `x` \\ \n end";
    RawVars v = evaluate_shell({f}, {{"weird", weird}}, kWl);
    CHECK(raw_get(v, "MAKE") == weird);
    CHECK_FALSE(fs::exists(t.dir / "pwned"));
}

TEST_CASE("file names are passed as arguments, not script text", "[shell]") {
    TempDir t;
    std::string name = "we ird $(touch pwned) ';\n.conf";
    auto f = t.write(name, "PACKAGE_NAME=\"$(basename \"$BASH_SOURCE\")\"\n");
    RawVars v = evaluate_shell({f}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == name);
    CHECK_FALSE(fs::exists("pwned"));
    CHECK_FALSE(fs::exists(t.dir / "pwned"));
}

TEST_CASE("hostile values round-trip exactly", "[shell]") {
    TempDir t;
    std::string bytes;
    for (int c = 1; c < 256; ++c) bytes += char(c);
    // Written as $'\ooo' escapes so the file itself stays plain ASCII.
    std::string esc;
    for (unsigned char c : bytes) {
        char buf[8];
        snprintf(buf, sizeof buf, "\\%03o", c);
        esc += buf;
    }
    auto f = t.write("dkms.conf",
                     "MAKE[0]=$'" + esc + "'\n"
                     "MAKE[1]='multi\nline\n\n'\n"
                     "MAKE[2]=\"it's \\\"quoted\\\" \\$(not run) \\`nor this\\`\"\n"
                     "MAKE[3]='$(echo no) ${PACKAGE_NAME} \\'\n"
                     "MAKE[4]=''\n"
                     "CLEAN=$'\\x01\\x7f\\x01\\x7f'\n");
    RawVars v = evaluate_shell({f}, {}, kWl);
    REQUIRE(v.count("MAKE"));
    CHECK(v.at("MAKE").size() == 5);
    CHECK(raw_get(v, "MAKE", 0) == bytes);
    CHECK(raw_get(v, "MAKE", 1) == "multi\nline\n\n");
    CHECK(raw_get(v, "MAKE", 2) == "it's \"quoted\" $(not run) `nor this`");
    CHECK(raw_get(v, "MAKE", 3) == "$(echo no) ${PACKAGE_NAME} \\");
    CHECK(raw_get(v, "MAKE", 4) == "");
    CHECK(raw_get(v, "CLEAN") == "\x01\x7f\x01\x7f");
}

TEST_CASE("one trailing carriage return is stripped (CRLF files)", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf",
                     "PACKAGE_NAME=\"foo\"\r\n"
                     "PACKAGE_VERSION=1.0\r\n"
                     "MAKE[0]=$'two\\r\\r'\n"
                     "MAKE[1]=$'in\\rside'\r\n");
    RawVars v = evaluate_shell({f}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(v, "PACKAGE_VERSION") == "1.0");
    CHECK(raw_get(v, "MAKE", 0) == "two\r");
    CHECK(raw_get(v, "MAKE", 1) == "in\rside");
}

TEST_CASE("a failing or exiting file does not abort evaluation", "[shell]") {
    TempDir t;
    auto a = t.write("a.conf", "PACKAGE_NAME=foo\nfalse\nreturn 3\nPACKAGE_NAME=bar\n");
    auto b = t.write("b.conf", "PACKAGE_VERSION=2\nfalse\n");
    // A file whose subshell exits (exit, or set -e and a failure) contributes nothing,
    // exactly as with dkms's safe_source, but the files after it are still read.
    auto c = t.write("c.conf", "CLEAN=lost\nexit 1\n");
    auto c2 = t.write("c2.conf", "MAKE=lost\nset -e\nfalse\n");
    auto d = t.write("d.conf", "set -u -o pipefail\nSTRIP[2]=no\nreadonly STRIP\n");
    auto e = t.write("e.conf", "STRIP[3]=$((${#STRIP[@]} + 1))\n");
    RawVars v = evaluate_shell({a, b, c, c2, d, e}, {}, kWl);
    CHECK(v == RawVars{{"PACKAGE_NAME", {{0, "foo"}}},
                       {"PACKAGE_VERSION", {{0, "2"}}},
                       {"STRIP", {{2, "no"}, {3, "2"}}}});
}

TEST_CASE("compiler variables are not in the environment of the file", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf", "MAKE=\"${CC-none} ${CFLAGS-none} ${DKMS_SHELL_EVAL_TEST_VAR-none}\"\n");
    setenv("CC", "clang", 1);
    setenv("CFLAGS", "-O3", 1);
    setenv("DKMS_SHELL_EVAL_TEST_VAR", "kept", 1);
    setenv("MAKE", "gmake", 1);   // whitelisted names start unset, even from the environment
    RawVars v = evaluate_shell({f}, {}, {"MAKE", "CLEAN"});
    unsetenv("CC");
    unsetenv("CFLAGS");
    unsetenv("DKMS_SHELL_EVAL_TEST_VAR");
    unsetenv("MAKE");
    CHECK(raw_get(v, "MAKE") == "none none kept");
}

TEST_CASE("non-numeric array keys and empty inputs", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf", "declare -A MAKE=([x]=1 [y]=2)\nCLEAN=ok\n");
    CHECK(evaluate_shell({f}, {}, kWl) == RawVars{{"CLEAN", {{0, "ok"}}}});
    CHECK(evaluate_shell({}, {}, kWl).empty());
    CHECK(evaluate_shell({t.dir / "nope.conf"}, {}, kWl).empty());
}

TEST_CASE("output on the result channel that is not ours is rejected", "[shell]") {
    TempDir t;
    // The file runs with the result channel (fd 3) open: whatever it writes there is parsed
    // strictly, never run, and a name outside the whitelist is an error.
    auto f = t.write("dkms.conf",
                     "PACKAGE_NAME=foo\n"
                     "printf 'NOT_WHITELISTED\\0' >&3\n");
    try {
        evaluate_shell({f}, {}, kWl);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::BadConf);
        CHECK(e.lines().front().find(f.string()) != std::string::npos);
    }
}

TEST_CASE("code a file writes to any descriptor never runs in the evaluation of the next file", "[shell]") {
    TempDir t;
    // Earlier versions ran all files in one bash and eval'ed a carry-over that a file could write
    // to: a dkms.conf could then define `source` and silence the /etc/dkms overrides after it.
    auto a = t.write("a.conf",
                     "PACKAGE_NAME=foo\n"
                     "for fd in 0 1 2 4 5 6 7 8 9 10 11 12; do echo 'source() { :; }; CLEAN=injected' >&$fd; done "
                     "2>/dev/null\n");
    auto b = t.write("b.conf", "PACKAGE_VERSION=from-override\n");
    RawVars v = evaluate_shell({a, b}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(v, "PACKAGE_VERSION") == "from-override");
    CHECK_FALSE(v.count("CLEAN"));
}

TEST_CASE("a file that writes well-formed records can only set whitelisted names", "[shell]") {
    TempDir t;
    auto a = t.write("a.conf", "printf 'CLEAN\\0000\\0forged\\0' >&3\n");
    auto b = t.write("b.conf", "PACKAGE_VERSION=\"$CLEAN\"\n");
    RawVars v = evaluate_shell({a, b}, {}, kWl);
    CHECK(raw_get(v, "CLEAN") == "forged");
    CHECK(raw_get(v, "PACKAGE_VERSION") == "forged");
}

TEST_CASE("files that are not text configuration are refused, naming file and line", "[shell]") {
    TempDir t;
    fs::create_directories(t.dir / "dir.conf");
    REQUIRE(mkfifo((t.dir / "fifo.conf").c_str(), 0644) == 0);
    auto nul = t.write("nul.conf", std::string("PACKAGE_NAME=a\nMAKE=x\0y\n", 25));
    auto big = t.write("big.conf", "PACKAGE_NAME=a\n" + std::string(max_config_bytes, '#') + "\n");
    auto expect = [&](const fs::path& f, const std::string& text) {
        INFO(f.string());
        try {
            evaluate_shell({f}, {}, kWl);
            FAIL("no error");
        } catch (const Error& e) {
            CHECK(e.code() == ExitCode::BadConf);
            CHECK(e.lines().front().find(text) != std::string::npos);
        }
    };
    expect(t.dir / "dir.conf", "is a directory");
    expect(t.dir / "fifo.conf", "is a FIFO");   // would block bash forever
    expect(nul, "nul.conf: line 2 contains a NUL byte");
    expect(big, "KiB are refused");
    // The same checks guard the fast path for framework.conf (which used to open a FIFO and block).
    CHECK_THROWS_AS(evaluate_config({t.dir / "fifo.conf"}, {}, kWl), Error);
}

TEST_CASE("a syntax error is an error naming the line, not a half-read file", "[shell]") {
    TempDir t;
    auto f = t.write("dkms.conf", "PACKAGE_NAME=foo\nMAKE=\"unbalanced\nCLEAN=true\n");
    try {
        evaluate_shell({f}, {}, kWl);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::BadConf);
        REQUIRE(e.lines().size() == 3);
        CHECK(e.lines()[0] == f.string() + " has a shell syntax error; bash stopped reading it there:");
        CHECK(e.lines()[1].find("line 2") != std::string::npos);
    }
    // A file whose last command just returns 2 is fine.
    auto g = t.write("ok.conf", "PACKAGE_NAME=foo\n(exit 2)\n");
    CHECK(raw_get(evaluate_shell({g}, {}, kWl), "PACKAGE_NAME") == "foo");
}

TEST_CASE("a file that does not run to its end is reported", "[shell]") {
    TempDir t;
    auto a = t.write("a.conf", "PACKAGE_NAME=foo\n");
    auto b = t.write("b.conf", "PACKAGE_NAME=bar\nexec true\n");
    std::vector<std::string> notes;
    RawVars v = evaluate_shell({a, b}, {}, kWl, &notes);
    CHECK(raw_get(v, "PACKAGE_NAME") == "foo");
    REQUIRE(notes.size() == 1);
    CHECK(notes[0] == b.string() + " did not run to its end (exit, exec, or a failure under set -e), "
                                   "so none of its settings are used.");
}

TEST_CASE("bad whitelist or preset names are refused", "[shell]") {
    CHECK_THROWS_AS(evaluate_shell({}, {}, {"BAD NAME"}), Error);
    CHECK_THROWS_AS(evaluate_shell({}, {{"x;rm", "1"}}, {"MAKE"}), Error);
    CHECK_THROWS_AS(evaluate_shell({}, {}, {"__dkms_f"}), Error);
}

TEST_CASE("evaluate_config gives what bash gives, with or without bash", "[shell][framework]") {
    TempDir t;
    auto write = [&](const std::string& name, const std::string& text) { return t.write(name, text); };
    const std::vector<std::string> names{"dkms_tree", "parallel_jobs", "compress_xz_opts", "sign_file", "verbose"};
    const dkms::ShellPresets presets{{"kernelver", "6.1.0-9-amd64"}, {"arch", "x86_64"}};
    std::vector<std::vector<std::filesystem::path>> cases{
        {write("comments.conf", "# dkms_tree=/var/lib/dkms\n#sign_file=\"/lib/modules/$kernelver/build/scripts/sign-file\"\n\n")},
        {write("plain.conf", "dkms_tree=/srv/dkms\nparallel_jobs='4'\n  verbose=\"1\"  # trailing comment\n"),
         write("later.conf", "parallel_jobs=8\ncompress_xz_opts=\"--check=crc32 -6\"\n")},
        {write("expand.conf", "sign_file=/lib/modules/$kernelver/build/scripts/sign-file\n")},
        {write("subst.conf", "parallel_jobs=$(( 2 + 3 ))\n")},
        {write("crlf.conf", "dkms_tree=/x\r\n")},
        {t.dir / "missing.conf", write("present.conf", "verbose=\n")},
    };
    for (auto& files : cases) {
        INFO(files.back().filename().string());
        CHECK(dkms::evaluate_config(files, presets, names) == dkms::evaluate_shell(files, presets, names));
    }
    auto v = dkms::evaluate_config(cases[1], presets, names);
    CHECK(dkms::raw_get(v, "parallel_jobs") == "8");
    CHECK(dkms::raw_get(v, "verbose") == "1");
    CHECK(dkms::raw_get(dkms::evaluate_config(cases[2], presets, names), "sign_file") ==
          "/lib/modules/6.1.0-9-amd64/build/scripts/sign-file");
    CHECK(dkms::raw_get(dkms::evaluate_config(cases[3], presets, names), "parallel_jobs") == "5");
}

namespace {

// Runs fn with PATH pointing at an empty directory: any attempt to start bash fails.
template <class F>
void without_bash(const TempDir& t, F fn) {
    fs::create_directories(t.dir / "empty-path");
    std::string saved = getenv("PATH") ? getenv("PATH") : "";
    setenv("PATH", (t.dir / "empty-path").c_str(), 1);
    try {
        fn();
    } catch (...) {
        setenv("PATH", saved.c_str(), 1);
        throw;
    }
    setenv("PATH", saved.c_str(), 1);
}

}  // namespace

TEST_CASE("evaluate_config reads a plain dkms.conf with expansions as bash does", "[shell][conf]") {
    TempDir t;
    const ShellPresets presets{{"kernelver", "6.1.0-9-amd64"}, {"arch", "x86_64"},
                               {"kernel_source_dir", "/lib/modules/6.1.0-9-amd64/build"}, {"dkms_tree", "/var/lib/dkms"}};
    const std::vector<std::string> texts{
        "PACKAGE_NAME=\"foo\"\nPACKAGE_VERSION=1.0\n"
        "MAKE[0]=\"make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build\"\n",
        "PACKAGE_NAME=foo\nBUILT_MODULE_NAME=(a 'b c' \"d\")\nBUILT_MODULE_NAME+=(e)\nSTRIP[3]=no\n",
        "PACKAGE_NAME='it''s'\nMAKE=\"make \\\n  KVER=$kernelver\"   # comment\nCLEAN=make\\ clean\n",
        "mod=bar\nPACKAGE_NAME=$mod\nPACKAGE_VERSION=\"${mod}-2\"\nMAKE=\"\\$HOME \\\"q\\\" \\\\x\"\n",
        "PACKAGE_NAME=a\nPACKAGE_NAME+=b\nexport PACKAGE_VERSION=3\nDEST_MODULE_LOCATION[0]=/updates/dkms\n",
        "PACKAGE_NAME=\"$unset_in_env\"x\nPACKAGE_VERSION=${BUILT_MODULE_NAME}y\n",
        "\n# only a comment and an assignment without newline at the end\nPACKAGE_NAME=last",
        "PACKAGE_NAME=~foo\nPACKAGE_VERSION=a:~b\n",        // not plain: tilde, via bash
        "PACKAGE_NAME=$(echo x)\n",                         // not plain: command substitution
        "if true; then PACKAGE_NAME=x; fi\n",
        "PACKAGE_NAME=\"a\r\"\n",
    };
    int i = 0;
    for (auto& text : texts) {
        fs::path f = t.write("case" + std::to_string(i++) + ".conf", text);
        INFO(text);
        CHECK(evaluate_config({f}, presets, kWl) == evaluate_shell({f}, presets, kWl));
    }
    // The plain ones were read without starting bash.
    without_bash(t, [&] {
        for (int k : {0, 1, 2, 3, 4, 5, 6}) {
            INFO(texts[k]);
            CHECK_NOTHROW(evaluate_config({t.dir / ("case" + std::to_string(k) + ".conf")}, presets, kWl));
        }
        for (int k : {7, 8, 9, 10}) {
            INFO(texts[k]);
            CHECK_THROWS_AS(evaluate_config({t.dir / ("case" + std::to_string(k) + ".conf")}, presets, kWl), Error);
        }
    });
    CHECK(raw_get(evaluate_config({t.dir / "case0.conf"}, presets, kWl), "MAKE") ==
          "make -C /lib/modules/6.1.0-9-amd64/build M=/var/lib/dkms/foo/1.0/build");
}

TEST_CASE("evaluate_config leaves a name the environment defines to bash", "[shell][conf]") {
    TempDir t;
    fs::path f = t.write("env.conf", "PACKAGE_NAME=\"$DKMS_RUN_TEST_FROM_ENV\"\nPACKAGE_VERSION=\"$CC\"\n");
    setenv("DKMS_RUN_TEST_FROM_ENV", "from-env", 1);
    setenv("CC", "gcc-evil", 1);   // removed from bash's environment, as dkms does
    RawVars v = evaluate_config({f}, {}, kWl);
    CHECK(raw_get(v, "PACKAGE_NAME") == "from-env");
    CHECK(raw_get(v, "PACKAGE_VERSION").empty());
    CHECK(v == evaluate_shell({f}, {}, kWl));
    unsetenv("DKMS_RUN_TEST_FROM_ENV");
    unsetenv("CC");
    without_bash(t, [&] { CHECK(raw_get(evaluate_config({f}, {}, kWl), "PACKAGE_NAME").empty()); });
}

TEST_CASE("evaluate_config with several files: each on its own, with the values carried", "[shell][conf]") {
    TempDir t;
    fs::path a = t.write("dkms.conf", "PACKAGE_NAME=foo\npriv=secret\nMAKE=\"make $kernelver\"\n");
    // priv is not whitelisted: bash does not carry it into the next file, so it expands to "".
    fs::path b = t.write("foo.conf", "MAKE+=\" V=1\"\nCLEAN=\"[$priv]\"\nSTRIP[2]=$PACKAGE_NAME\n");
    fs::path c = t.write("foo-comments.conf", "# nothing\n\n");
    const ShellPresets presets{{"kernelver", "6.1.0-9-amd64"}};
    const RawVars bash = evaluate_shell({a, b}, presets, kWl);
    CHECK(raw_get(bash, "MAKE") == "make 6.1.0-9-amd64 V=1");
    CHECK(raw_get(bash, "CLEAN") == "[]");
    without_bash(t, [&] {
        CHECK(evaluate_config({a, b}, presets, kWl) == bash);
        CHECK(raw_get(evaluate_config({a, c, t.dir / "missing.conf"}, presets, kWl), "MAKE") == "make 6.1.0-9-amd64");
        // A later file that needs the shell sends the whole read to bash.
        fs::path d = t.write("foo-shell.conf", "MAKE=$(echo x)\n");
        CHECK_THROWS_AS(evaluate_config({a, d}, presets, kWl), Error);
    });
}
