// SPDX-License-Identifier: GPL-2.0-or-later
// read_declarative: the plain-assignment subset of dkms.conf, with line numbers, no execution.
#include <catch2/catch.hpp>

#include <string>

#include "dkms/conf/raw_conf.hpp"

using namespace dkms;

namespace {

// The first needs-shell report, or {0, ""}.
DeclNeedsShell first_need(const DeclConf& c) { return c.needs_shell.empty() ? DeclNeedsShell{} : c.needs_shell.front(); }

}  // namespace

TEST_CASE("declarative: scalars, quotes, comments and line numbers", "[declarative]") {
    DeclConf c = read_declarative(
        "# a comment\n"
        "\n"
        "PACKAGE_NAME=\"foo\"   # trailing comment\n"
        "PACKAGE_VERSION='1.0'\n"
        "MAKE[0]=make\\ all   \n"
        "CLEAN=a\"b\"'c'd#not-a-comment\n"
        "  AUTOINSTALL=yes; STRIP[0]=no\n"
        "EMPTY=\n"
        "EMPTY2=\"\"\n");
    CHECK(c.plain());
    CHECK(raw_get(c.vars, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(c.vars, "PACKAGE_VERSION") == "1.0");
    CHECK(raw_get(c.vars, "MAKE") == "make all");
    CHECK(raw_get(c.vars, "CLEAN") == "abcd#not-a-comment");
    CHECK(raw_get(c.vars, "AUTOINSTALL") == "yes");
    CHECK(raw_get(c.vars, "STRIP") == "no");
    CHECK(c.vars.count("EMPTY"));
    CHECK(c.vars.at("EMPTY").at(0).empty());
    CHECK(c.vars.at("EMPTY2").at(0).empty());
    CHECK(c.line_of("PACKAGE_NAME") == 3);
    CHECK(c.line_of("PACKAGE_VERSION") == 4);
    CHECK(c.line_of("AUTOINSTALL") == 7);
    CHECK(c.line_of("STRIP") == 7);
    CHECK(c.line_of("NOPE") == 0);
    REQUIRE(c.assignments.size() == 8);
    CHECK(c.assignments[2].name == "MAKE");
    CHECK(c.assignments[2].indexed);
    CHECK_FALSE(c.assignments[0].indexed);
}

TEST_CASE("declarative: double-quote escapes and continuations", "[declarative]") {
    DeclConf c = read_declarative(
        "MAKE[0]=\"make \\\n"
        "   all RTP=\\\"v\\\" \\$x \\\\ \\n \\. done\"\n"
        "CLEAN=un\\\n"
        "split\n"
        "PRE_BUILD='no \\ escapes \"here\" $x'\n"
        "POST_BUILD=\"a\n"
        "b\"\n"
        "X=1\n");
    CHECK(c.plain());
    CHECK(raw_get(c.vars, "MAKE") == "make    all RTP=\"v\" $x \\ \\n \\. done");
    CHECK(raw_get(c.vars, "CLEAN") == "unsplit");
    CHECK(raw_get(c.vars, "PRE_BUILD") == "no \\ escapes \"here\" $x");
    CHECK(raw_get(c.vars, "POST_BUILD") == "a\nb");
    CHECK(c.line_of("MAKE") == 1);
    CHECK(c.line_of("CLEAN") == 3);
    CHECK(c.line_of("PRE_BUILD") == 5);
    CHECK(c.line_of("POST_BUILD") == 6);
    CHECK(c.line_of("X") == 8);
}

TEST_CASE("declarative: expansion from presets and earlier assignments", "[declarative]") {
    ShellPresets p = {{"kernelver", "6.1.0-56-amd64"}, {"kernel_source_dir", "/lib/modules/6.1.0-56-amd64/build"},
                      {"dkms_tree", "/var/lib/dkms"}};
    DeclConf c = read_declarative(
        "PACKAGE_NAME=foo\n"
        "PACKAGE_VERSION=1.2\n"
        "MAKE[0]=\"make -C ${kernel_source_dir} M=$dkms_tree/$PACKAGE_NAME/${PACKAGE_VERSION}/build K=$kernelver\"\n"
        "CLEAN=$UNSET_THING.${ALSO_UNSET}.\n"
        "A[3]=three\n"
        "B=\"${A[3]}-$A[3]-${A}-${kernelver[0]}-${kernelver[1]}\"\n"
        "C=\"cost \\$5 and $ alone and a$\"\n"
        "kernelver=mine\n"
        "D=$kernelver\n",
        p);
    CHECK(c.plain());
    CHECK(raw_get(c.vars, "MAKE") ==
          "make -C /lib/modules/6.1.0-56-amd64/build M=/var/lib/dkms/foo/1.2/build K=6.1.0-56-amd64");
    CHECK(raw_get(c.vars, "CLEAN") == "..");
    CHECK(raw_get(c.vars, "B") == "three-[3]--6.1.0-56-amd64-");
    CHECK(raw_get(c.vars, "C") == "cost $5 and $ alone and a$");
    CHECK(raw_get(c.vars, "D") == "mine");
}

TEST_CASE("declarative: arrays, sparse indexes, compound assignments", "[declarative]") {
    DeclConf c = read_declarative(
        "BUILT_MODULE_NAME[0]=a\n"
        "BUILT_MODULE_NAME[7]=b\n"
        "DEST=(/extra \"/up dates\" '' # comment inside\n"
        "      [10]=ten eleven)\n"
        "S=x\n"
        "S[2]=y\n"
        "R=(1 2 3)\n"
        "R=(only)\n"
        "E=(x)\n"
        "E=()\n"
        "V=\n"
        "W=($V \"$V\")\n"
        "P=a\n"
        "P+=b\n"
        "Q=(q0)\n"
        "Q+=(q1 q2)\n"
        "export X=exp Y\n"
        "readonly Z=ro\n");
    INFO(c.needs_shell.size());
    CHECK(c.plain());
    CHECK(c.vars.at("BUILT_MODULE_NAME") == std::map<std::size_t, std::string>{{0, "a"}, {7, "b"}});
    CHECK(c.vars.at("DEST") ==
          std::map<std::size_t, std::string>{{0, "/extra"}, {1, "/up dates"}, {2, ""}, {10, "ten"}, {11, "eleven"}});
    CHECK(c.line_of("DEST", 1) == 3);
    CHECK(c.line_of("DEST", 11) == 4);
    CHECK(c.vars.at("S") == std::map<std::size_t, std::string>{{0, "x"}, {2, "y"}});
    CHECK(c.vars.at("R") == std::map<std::size_t, std::string>{{0, "only"}});
    CHECK(c.line_of("R", 1) == 0);   // replaced by the second compound assignment
    CHECK_FALSE(c.vars.count("E"));
    CHECK(c.vars.at("W") == std::map<std::size_t, std::string>{{0, ""}});
    CHECK(raw_get(c.vars, "P") == "ab");
    CHECK(c.vars.at("Q") == std::map<std::size_t, std::string>{{0, "q0"}, {1, "q1"}, {2, "q2"}});
    CHECK(raw_get(c.vars, "X") == "exp");
    CHECK_FALSE(c.vars.count("Y"));
    CHECK(raw_get(c.vars, "Z") == "ro");
}

TEST_CASE("declarative: a continuation disappears before expansion", "[declarative]") {
    DeclConf c = read_declarative("A=x\nB=$\\\nA\\\n.\nC='$\\\nA'\n");
    CHECK(c.plain());
    CHECK(raw_get(c.vars, "B") == "x.");
    CHECK(raw_get(c.vars, "C") == "$\\\nA");
}

TEST_CASE("declarative: CRLF lines give the same values as LF lines", "[declarative]") {
    DeclConf c = read_declarative("PACKAGE_NAME=\"foo\"\r\nPACKAGE_VERSION=1.0\r\n# c\r\n\r\nMAKE[1]='x'\r\n");
    CHECK(c.plain());
    CHECK(raw_get(c.vars, "PACKAGE_NAME") == "foo");
    CHECK(raw_get(c.vars, "PACKAGE_VERSION") == "1.0");
    CHECK(raw_get(c.vars, "MAKE", 1) == "x");
    CHECK(c.line_of("MAKE", 1) == 5);
}

TEST_CASE("declarative: shell constructs are reported with their line", "[declarative]") {
    struct Case {
        const char* text;
        int line;
        const char* what;
    };
    const Case cases[] = {
        {"A=1\nB=$(uname -r)\n", 2, "command substitution"},
        {"A=1\n\nB=`uname -r`\n", 3, "command substitution"},
        {"B=\"x $(uname -r)\"\n", 1, "command substitution"},
        {"i=0\ni=$((i+1))\n", 2, "arithmetic expansion"},
        {"i=0\nMAKE[$i]=x\n", 2, "array index '$i'"},
        {"if [ -f x ]; then\n  A=1\nfi\n", 1, "if statement"},
        {"A=1\ncase $x in\n a) B=1 ;;\nesac\n", 2, "case statement"},
        {"for x in a b; do A=$x; done\n", 1, "for loop"},
        {"while false; do :; done\n", 1, "while loop"},
        {"A=1\npushd `dirname $BASH_SOURCE`\n", 2, "command 'pushd'"},
        {"A=1\n. /boot/config\n", 2, "sourcing a file ('.')"},
        {"f() { A=1; }\n", 1, "function definition 'f'"},
        {"function f {\n A=1\n}\n", 1, "function definition"},
        {"A=1 make\n", 1, "command 'make'"},
        {"A=${B:-x}\n", 1, "parameter expansion '${B:-x}'"},
        {"A=${#B}\n", 1, "parameter expansion '${#B}'"},
        {"A=$1\n", 1, "special parameter '$1'"},
        {"A=$'\\t'\n", 1, "ANSI-C quoting $'...'"},
        {"A=~/x\n", 1, "tilde expansion"},
        {"A=(*.c)\n", 1, "pathname expansion"},
        {"A=({a,b})\n", 1, "brace expansion"},
        {"V='a b'\nA=($V)\n", 2, "word splitting of $V"},
        {"A=\"$BASH_SOURCE\"\n", 1, "bash variable 'BASH_SOURCE'"},
        {"A=1 >/dev/null\n", 1, "redirection"},
        {"A=1 && B=2\n", 1, "operator '&&'"},
        {"(A=1)\n", 1, "subshell"},
        {"[[ -n x ]] && A=1\n", 1, "conditional command"},
        {"A=\"unterminated\n", 1, "unterminated quote"},
        {"A[1]=(x)\n", 1, "list assigned to an array element"},
        {"readonly A=1\nA=2\n", 2, "assignment to readonly variable 'A'"},
        {"export -n A\n", 1, "command 'export -n'"},
        {"fi\n", 1, "unexpected 'fi'"},
        {"A=1\n;\n", 2, "unexpected ';'"},
        {"A=$[1+1]\n", 1, "arithmetic expansion"},
        {"A=(x y)z\n", 1, "array assignment"},
        {"A=(x y)\r\n", 1, "array assignment"},
        {"A=1 \r\n", 1, "command ' '"},   // the lone "\r" is a command
        {"export A[1]=x\n", 1, "'export' of an array element"},
        {"readonly D={a,b}x\n", 1, "brace expansion"},
    };
    for (const Case& k : cases) {
        INFO(k.text);
        DeclConf c = read_declarative(k.text);
        CHECK_FALSE(c.plain());
        CHECK(first_need(c).line == k.line);
        CHECK(first_need(c).what == k.what);
    }
}

TEST_CASE("declarative: skipped constructs do not leak assignments", "[declarative]") {
    DeclConf c = read_declarative(
        "PACKAGE_NAME=foo\n"                          // 1
        "if [ -f /x ]; then\n"                        // 2
        "  BUILD_EXCLUSIVE_ARCH=\"^none$\"\n"         // 3
        "  case $y in\n"                              // 4
        "    a|b) MAKE=in-case ;;\n"                  // 5
        "    *) while :; do CLEAN=loop; done ;;\n"    // 6
        "  esac\n"                                    // 7
        "fi\n"                                        // 8
        "do_status() {\n"                             // 9
        "  PACKAGE_VERSION=from-function\n"          // 10
        "}\n"                                         // 11
        "cat <<EOF\n"                                 // 12
        "STRIP=heredoc\n"                             // 13
        "EOF\n"                                       // 14
        "X=$(cmd\n"                                   // 15
        "  AUTOINSTALL=yes)\n"                        // 16
        "PACKAGE_VERSION=1.0\n");                     // 17
    CHECK_FALSE(c.plain());
    CHECK(c.vars == RawVars{{"PACKAGE_NAME", {{0, "foo"}}}, {"PACKAGE_VERSION", {{0, "1.0"}}}});
    REQUIRE(c.needs_shell.size() == 4);
    CHECK(c.needs_shell[0].line == 2);
    CHECK(c.needs_shell[1].line == 9);
    CHECK(c.needs_shell[2].line == 12);
    CHECK(c.needs_shell[2].what == "command 'cat'");
    CHECK(c.needs_shell[3].line == 15);
    CHECK(c.line_of("PACKAGE_VERSION") == 17);
}

TEST_CASE("declarative: garbage never throws", "[declarative]") {
    const char* inputs[] = {"", "\"", "'", "$(", "${", "A=(", "A=(a", ")", "((", "<<", "A=\\", "A=$", "A[=1",
                            "A[99999999999999999999]=1", "case", "esac esac", "\xff\xfe=\x01", "f(", "}}}{{{",
                            "A=([x]=1)", "A=([]=1)", "cat <<'E\nE", "A=1 2>&1"};
    for (const char* in : inputs) {
        INFO(in);
        CHECK_NOTHROW(read_declarative(in));
    }
    CHECK(read_declarative("").plain());
    CHECK(read_declarative("").vars.empty());
    CHECK_FALSE(read_declarative("A=(").plain());
}
