// SPDX-License-Identifier: GPL-2.0-or-later
// Kernel facts: dkms's version order, kernel config files, header completeness, .modinfo.
#include <catch2/catch.hpp>

#include <set>

#include <algorithm>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/process.hpp"
#include "support.hpp"

using namespace dkms;

namespace {
/// gcc -c: an ELF relocatable object, which is what a .ko is.
ProcessResult compile(const fs::path& c, const fs::path& out) {
    ProcessSpec spec;
    spec.argv = {"gcc", "-c", "-o", out.string(), c.string()};
    return run_process(spec);
}
}  // namespace

TEST_CASE("dkms_ver_key pads digit runs to three places", "[kernel]") {
    CHECK(dkms_ver_key("6.1.0-9-amd64") == "006.001.000-009-amd064");
    CHECK(dkms_ver_key("1.10") == "001.010");
    CHECK(dkms_ver_key("20230401") == "20230401");   // longer runs kept as they are
    CHECK(dkms_ver_key("") == "");
}

TEST_CASE("dkms_ver_compare orders numerically per field", "[kernel]") {
    CHECK(dkms_ver_compare("1.10", "1.9") > 0);
    CHECK(dkms_ver_compare("6.1.0-10-amd64", "6.1.0-9-amd64") > 0);
    CHECK(dkms_ver_compare("2.0", "2.0") == 0);
    CHECK(dkms_ver_compare("1.0", "1.0.1") < 0);
    CHECK(dkms_ver_compare("001", "1") == 0);   // the same key: dkms cannot tell them apart either
}

TEST_CASE("natural_less sorts kernels as sort -V does", "[kernel]") {
    std::vector<std::string> k{"6.10.0-1-amd64", "6.1.0-10-amd64", "6.1.0-9-amd64", "5.10.0-30-amd64", "6.1.0-9-rt-amd64"};
    std::sort(k.begin(), k.end(), natural_less);
    CHECK(k == std::vector<std::string>{"5.10.0-30-amd64", "6.1.0-9-amd64", "6.1.0-9-rt-amd64", "6.1.0-10-amd64",
                                        "6.10.0-1-amd64"});
    CHECK_FALSE(natural_less("a", "a"));
}

TEST_CASE("read_kernel_config: values without quotes, comments ignored", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    write_file_atomic(t.path() / "auto.conf",
                      "# Automatically generated\nCONFIG_MODULES=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n"
                      "# CONFIG_FOO is not set\nCONFIG_NR_CPUS=8192\n\n");
    auto c = read_kernel_config(t.path() / "auto.conf");
    CHECK(c.at("CONFIG_MODULES") == "y");
    CHECK(c.at("CONFIG_MODULE_SIG_HASH") == "sha256");
    CHECK(c.at("CONFIG_NR_CPUS") == "8192");
    CHECK(c.count("CONFIG_FOO") == 0);
    CHECK(c.size() == 3);
    const std::set<std::string> only{"CONFIG_MODULE_SIG_HASH", "CONFIG_FOO", "CONFIG_ABSENT"};
    CHECK(read_kernel_config(t.path() / "auto.conf", &only) == KernelConfig{{"CONFIG_MODULE_SIG_HASH", "sha256"}});
    write_file_atomic(t.path() / "no-newline.conf", "CONFIG_LAST=\"x y\"");
    CHECK(read_kernel_config(t.path() / "no-newline.conf").at("CONFIG_LAST") == "x y");
}

TEST_CASE("read_kernel_config of a few names agrees with the whole reading", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    write_file_atomic(t.path() / "c", "CONFIG_A_B=1\nXCONFIG_A=2\n#CONFIG_A=3\nCONFIG_A=4\nCONFIG_AB=5\nCONFIG_A=\"6\"\n"
                                      "CONFIG_Z=last");
    const std::set<std::string> only{"CONFIG_A", "CONFIG_Z", "CONFIG_A_B", "CONFIG_NONE", "A", "CONFIG_A=4"};
    CHECK(read_kernel_config(t.path() / "c", &only) ==
          KernelConfig{{"CONFIG_A", "6"}, {"CONFIG_A_B", "1"}, {"CONFIG_Z", "last"}});
    // A real kernel's config, when headers are installed: the same values either way.
    for (auto& d : fs::directory_iterator("/usr/src")) {
        fs::path conf = d.path() / "include/config/auto.conf";
        if (!fs::exists(conf)) continue;
        KernelConfig all = read_kernel_config(conf);
        REQUIRE(all.size() > 100);
        std::set<std::string> names{"CONFIG_CC_IS_CLANG", "CONFIG_NOT_A_REAL_OPTION"};
        for (auto& [k, v] : all)
            if (names.size() < 200) names.insert(k);
        KernelConfig some = read_kernel_config(conf, &names);
        for (auto& n : names) CHECK(some.count(n) == all.count(n));
        for (auto& [k, v] : some) CHECK(all.at(k) == v);
        break;
    }
}

TEST_CASE("kernel_config_file prefers include/config/auto.conf over .config", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    CHECK(kernel_config_file(t.path()).empty());
    write_file_atomic(t.path() / ".config", "CONFIG_A=y\n");
    CHECK(kernel_config_file(t.path()) == t.path() / ".config");
    fs::create_directories(t.path() / "include/config");
    write_file_atomic(t.path() / "include/config/auto.conf", "CONFIG_A=m\n");
    CHECK(kernel_config_file(t.path()) == t.path() / "include/config/auto.conf");
}

TEST_CASE("missing_generated_headers lists what an incomplete headers tree lacks", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    CHECK(missing_generated_headers(t.path()).size() == 5);
    for (auto rel : {"Makefile", "include/generated/autoconf.h", "include/config/auto.conf"}) {
        fs::create_directories((t.path() / rel).parent_path());
        write_file_atomic(t.path() / rel, "");
    }
    CHECK(missing_generated_headers(t.path()) ==
          std::vector<std::string>{"include/generated/utsrelease.h", "scripts/Makefile.modpost"});
}

TEST_CASE("the installed kernel headers are complete", "[kernel][system]") {
    // The suite runs against real headers (tools/install-deps installs linux-headers-amd64).
    bool found = false;
    for (auto& e : fs::directory_iterator("/usr/src")) {
        auto n = e.path().filename().string();
        if (n.rfind("linux-headers-", 0) != 0 || n.size() < 6 || n.substr(n.size() - 6) != "-amd64") continue;
        if (n.find("-common") != std::string::npos) continue;
        found = true;
        INFO(e.path());
        CHECK(missing_generated_headers(e.path()).empty());
        CHECK(read_kernel_config(kernel_config_file(e.path())).count("CONFIG_MODULES"));
    }
    CHECK(found);
}

TEST_CASE("read_modinfo reads the .modinfo section of an ELF object in order", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    write_file_atomic(t.path() / "m.c",
                      "__attribute__((section(\".modinfo\"), used)) static const char a[] = \"version=1.2.3\";\n"
                      "__attribute__((section(\".modinfo\"), used)) static const char b[] = \"license=GPL\";\n"
                      "__attribute__((section(\".modinfo\"), used)) static const char c[] = \"alias=x=y\";\n"
                      "int f(void) { return 0; }\n");
    auto r = compile(t.path() / "m.c", t.path() / "m.ko");
    REQUIRE(r.status == 0);
    auto mi = read_modinfo(t.path() / "m.ko");
    CHECK(modinfo_get(mi, "version") == std::optional<std::string>("1.2.3"));
    CHECK(modinfo_get(mi, "license") == std::optional<std::string>("GPL"));
    CHECK(modinfo_get(mi, "alias") == std::optional<std::string>("x=y"));   // split at the first '='
    CHECK_FALSE(modinfo_get(mi, "srcversion"));
    // In file order, as modinfo prints them.
    std::vector<std::string> keys;
    for (auto& [k, v] : mi) keys.push_back(k);
    auto pos = [&](const char* k) { return std::find(keys.begin(), keys.end(), k) - keys.begin(); };
    CHECK(pos("version") < pos("license"));
    CHECK(pos("license") < pos("alias"));
}

TEST_CASE("read_modinfo refuses what is not an ELF module, truncated or not", "[kernel]") {
    TempDir t("/tmp", "dkms-unit");
    write_file_atomic(t.path() / "text.ko", "this is not ELF\n");
    CHECK_THROWS_AS(read_modinfo(t.path() / "text.ko"), Error);
    write_file_atomic(t.path() / "m.c", "int f(void) { return 1; }\n");
    REQUIRE(compile(t.path() / "m.c", t.path() / "m.ko").status == 0);
    std::string img = read_file(t.path() / "m.ko");
    CHECK(read_modinfo(t.path() / "m.ko").empty());   // ELF without .modinfo: no fields
    for (size_t cut : {size_t(4), size_t(20), size_t(63), img.size() / 2}) {
        write_file_atomic(t.path() / "cut.ko", img.substr(0, cut));
        INFO("cut at " << cut);
        CHECK_THROWS_AS(read_modinfo(t.path() / "cut.ko"), Error);
    }
}
