// SPDX-License-Identifier: GPL-2.0-or-later
// raw_get, the two whitelists and DeclConf::line_of.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "dkms/conf/raw_conf.hpp"

using namespace dkms;

TEST_CASE("raw_get returns the value or an empty string", "[conf]") {
    RawVars v = {{"MAKE", {{0, "make"}, {3, "make three"}}}, {"STRIP", {{1, "no"}}}};
    CHECK(raw_get(v, "MAKE") == "make");
    CHECK(raw_get(v, "MAKE", 3) == "make three");
    CHECK(raw_get(v, "MAKE", 1) == "");
    CHECK(raw_get(v, "STRIP") == "");
    CHECK(raw_get(v, "STRIP", 1) == "no");
    CHECK(raw_get(v, "CLEAN") == "");
    CHECK(raw_get({}, "MAKE", 7) == "");
}

TEST_CASE("the dkms.conf whitelist is upstream 3.4's", "[conf]") {
    const auto& d = dkms_conf_directives();
    std::set<std::string> s(d.begin(), d.end());
    CHECK(s.size() == d.size());   // no duplicates
    CHECK(d.size() == 33);
    for (const char* n : {"PACKAGE_NAME", "PACKAGE_VERSION", "CLEAN", "MAKE", "MAKE_MATCH", "PATCH", "PATCH_MATCH",
                          "BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION",
                          "STRIP", "PRE_BUILD", "POST_BUILD", "POST_ADD", "PRE_INSTALL", "POST_INSTALL",
                          "POST_REMOVE", "AUTOINSTALL", "BUILD_DEPENDS", "BUILD_DEPENDS_REBUILD",
                          "BUILD_EXCLUSIVE_KERNEL", "BUILD_EXCLUSIVE_KERNEL_MIN", "BUILD_EXCLUSIVE_KERNEL_MAX",
                          "BUILD_EXCLUSIVE_ARCH", "BUILD_EXCLUSIVE_CONFIG", "OBSOLETE_BY", "NO_WEAK_MODULES",
                          "REMAKE_INITRD", "MODULES_CONF", "MODULES_CONF_OBSOLETES", "MODULES_CONF_ALIAS_TYPE",
                          "MODULES_CONF_OBSOLETE_ONLY"})
        CHECK(s.count(n));
    // Private variables of real packages, and the 3.0.10-only signing names, are not directives.
    for (const char* n : {"LOAD", "KSRC", "MAKEARGS", "SIGN_FILE", "MOK_SIGNING_KEY", "kernelver", "i"})
        CHECK_FALSE(s.count(n));
}

TEST_CASE("the framework.conf settings", "[conf]") {
    const auto& f = framework_conf_settings();
    std::set<std::string> s(f.begin(), f.end());
    CHECK(s.size() == f.size());
    CHECK(f.size() == 22);
    for (const char* n : {"source_tree", "dkms_tree", "install_tree", "tmp_location", "verbose", "symlink_modules",
                          "autoinstall_all_kernels", "modprobe_on_install", "sign_file", "mok_signing_key",
                          "mok_certificate", "try_sign_modules", "parallel_jobs", "compress_gzip_opts",
                          "compress_xz_opts", "compress_zstd_opts", "build_environment", "post_transaction", "lock_timeout",
                          "continue_on_error", "script_timeout", "build_confinement"})
        CHECK(s.count(n));
    CHECK_FALSE(s.count("kernelver"));
    // No overlap with the dkms.conf directives: the two files are read with different lists.
    for (auto& n : dkms_conf_directives()) CHECK_FALSE(s.count(n));
}

TEST_CASE("line_of gives the line of the last assignment that still counts", "[conf]") {
    DeclConf c;
    c.assignments = {{"MAKE", false, 0, "a", 2}, {"MAKE", true, 1, "b", 3}, {"MAKE", true, 0, "c", 9},
                     {"R", true, 4, "gone", 5}, {"R", true, 0, "kept", 6}};
    // R=(...) on line 6 replaced the element set on line 5.
    c.vars = {{"MAKE", {{0, "c"}, {1, "b"}}}, {"R", {{0, "kept"}}}};
    CHECK(c.line_of("MAKE") == 9);
    CHECK(c.line_of("MAKE", 0) == 9);
    CHECK(c.line_of("MAKE", 1) == 3);
    CHECK(c.line_of("MAKE", 2) == 0);
    CHECK(c.line_of("R", 4) == 0);
    CHECK(c.line_of("R") == 6);
    CHECK(c.line_of("CLEAN") == 0);
}

TEST_CASE("line_of through read_declarative", "[conf][declarative]") {
    DeclConf c = read_declarative("A=1\n\nA[2]=x\n# c\nA=2\nB=(p\nq)\n");
    CHECK(c.line_of("A") == 5);
    CHECK(c.line_of("A", 2) == 3);
    CHECK(c.line_of("B", 0) == 6);
    CHECK(c.line_of("B", 1) == 7);
}
