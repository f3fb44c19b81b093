// SPDX-License-Identifier: GPL-2.0-or-later
// load_module_config: defaults, validation (messages and exit code 8), kernel-dependent
// selection (BUILD_EXCLUSIVE_*, MAKE_MATCH, PATCH_MATCH), overrides and --directive.
#include <catch2/catch.hpp>

#include "dkms/conf/dkms_conf.hpp"
#include "dkms/conf/framework.hpp"
#include "dkms/core/error.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

const std::string K = "6.1.0-9-amd64";

struct Fixture : FakeRoot {
    using FakeRoot::FakeRoot;
    fs::path conf_file;
    ModuleConfig load(const std::string& text, ConfMode mode = ConfMode::Strict, const std::string& kver = K,
                      const std::string& module = "foo", const std::string& version = "1.0") {
        conf_file = path() / "src/dkms.conf";
        write(conf_file, text);
        return load_module_config(ctx, conf_file, ConfTarget{module, version, Target{kver, "x86_64"}}, mode);
    }
    /// The exit code and the stderr lines of a load that must fail.
    ExitCode fails(const std::string& text, ConfMode mode = ConfMode::Strict) {
        report.err_lines.clear();
        try {
            load(text, mode);
        } catch (const Error& e) {
            return e.code();
        }
        FAIL("no error for:\n" << text);
        return ExitCode::Ok;
    }
};

const std::string kOne = "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nDEST_MODULE_LOCATION[0]=/kernel/extra\n";

}  // namespace

TEST_CASE("one module: names default from PACKAGE_NAME, Debian puts it in /updates/dkms", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    auto c = f.load(kOne);
    CHECK(c.package_name == "foo");
    CHECK(c.package_version == "1.0");
    REQUIRE(c.modules.size() == 1);
    CHECK(c.modules[0].built_name == "foo");
    CHECK(c.modules[0].dest_name == "foo");
    CHECK(c.modules[0].built_location == "");
    CHECK(c.modules[0].raw_dest_location == "/kernel/extra");
    CHECK(c.modules[0].dest_location == "/updates/dkms");
    CHECK(c.modules[0].strip);
    CHECK_FALSE(c.autoinstall);
    CHECK_FALSE(c.build_excluded);
    CHECK(f.report.err_lines.empty());
}

TEST_CASE("the distribution decides the destination", "[dkms_conf]") {
    for (auto [id, want] : {std::pair{"fedora", "/extra"}, {"opensuse-leap", "/updates"}, {"gentoo", "/kernel/extra"}}) {
        Fixture f(id);
        f.add_kernel(K);
        CHECK(f.load(kOne).modules[0].dest_location == want);
    }
}

TEST_CASE("several modules: locations get a slash, DEST defaults to BUILT, STRIP per index", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    auto c = f.load(
        "PACKAGE_NAME=pkg\nPACKAGE_VERSION=2.0\nAUTOINSTALL=YES\nSTRIP[0]=no\n"
        "BUILT_MODULE_NAME[0]=a\nBUILT_MODULE_LOCATION[0]=src\nDEST_MODULE_LOCATION[0]=/updates\n"
        "BUILT_MODULE_NAME[1]=b\nDEST_MODULE_NAME[1]=b_renamed\nDEST_MODULE_LOCATION[1]=/extra\nSTRIP[1]=yes\n",
        ConfMode::Strict, K, "pkg", "2.0");
    REQUIRE(c.modules.size() == 2);
    CHECK(c.modules[0].built_location == "src/");
    CHECK(c.modules[0].dest_name == "a");
    CHECK_FALSE(c.modules[0].strip);
    CHECK(c.modules[1].dest_name == "b_renamed");
    CHECK(c.modules[1].strip);
    CHECK(c.autoinstall);
}

TEST_CASE("validation errors are dkms's lines and exit code 8", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    CHECK(f.fails("DEST_MODULE_LOCATION[0]=/kernel\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! No 'PACKAGE_NAME' directive specified."));
    CHECK(f.report.err_has("dkms.conf: Error! No 'PACKAGE_VERSION' directive specified."));

    CHECK(f.fails("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=foo.ko\nDEST_MODULE_LOCATION[0]=/kernel\n") ==
          ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! 'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #0."));

    CHECK(f.fails("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]=/usr/lib\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not begin with"));
    CHECK(f.report.err_has("'/kernel', '/updates', or '/extra' in record #0."));

    CHECK(f.fails("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=b\n"
                  "DEST_MODULE_LOCATION[0]=/kernel\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #1."));

    CHECK(f.fails(kOne + "AUTOINSTALL=sometimes\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! Unsupported AUTOINSTALL value 'sometimes'"));
}

TEST_CASE("the yes/no directives take yes and no in any case, and nothing else", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    for (auto name : {"AUTOINSTALL", "BUILD_DEPENDS_REBUILD", "NO_WEAK_MODULES"})
        for (auto value : {"yes", "no", "YES", "No", ""}) {
            INFO(name << "=" << value);
            f.report.err_lines.clear();
            CHECK_NOTHROW(f.load(kOne + name + "=" + value + "\n"));
            CHECK(f.report.err_lines.empty());
        }
    CHECK(f.load(kOne + "AUTOINSTALL=Yes\n").autoinstall);
    CHECK_FALSE(f.load(kOne + "AUTOINSTALL=no\n").autoinstall);
    CHECK_FALSE(f.load(kOne).autoinstall);
    CHECK(f.fails(kOne + "NO_WEAK_MODULES=true\n") == ExitCode::BadConf);
    CHECK(f.report.err_lines == std::vector<std::string>{"dkms.conf: Error! Unsupported NO_WEAK_MODULES value 'true'"});
}

TEST_CASE("names and locations that would escape the tree are refused", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    CHECK(f.fails("PACKAGE_NAME=../x\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]=/kernel\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! 'PACKAGE_NAME' contains '/'."));
    CHECK(f.fails("PACKAGE_NAME=foo\nPACKAGE_VERSION=..\nDEST_MODULE_LOCATION[0]=/kernel\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! 'PACKAGE_VERSION' is '..'."));
    CHECK(f.fails(kOne + "DEST_MODULE_NAME[0]='a b'\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! Module name 'a b' in record #0 contains whitespace."));
    CHECK(f.fails("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]=/kernel/../../etc\n") == ExitCode::BadConf);
    CHECK(f.fails(kOne + "BUILT_MODULE_LOCATION[0]=/abs\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! 'BUILT_MODULE_LOCATION' must be relative in record #0."));
}

TEST_CASE("strict mode refuses duplicate modules; lenient mode reads them", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    std::string dup = "PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=a\n"
                      "DEST_MODULE_LOCATION[0]=/kernel\nDEST_MODULE_LOCATION[1]=/kernel\n";
    CHECK(f.fails(dup) == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! Duplicate module 'a' in 'BUILT_MODULE_NAME[1]'."));
    CHECK(f.load(dup, ConfMode::Lenient).modules.size() == 2);
}

TEST_CASE("zero modules is a warning, deprecated directives are named", "[dkms_conf]") {
    Fixture f("fedora");
    f.add_kernel(K);
    auto c = f.load("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nREMAKE_INITRD=yes\nCLEAN='make clean'\n");
    CHECK(c.modules.empty());
    CHECK(f.report.err_lines == std::vector<std::string>{"Deprecated feature: CLEAN (" + f.conf_file.string() + ")",
                                                         "Deprecated feature: REMAKE_INITRD (" +
                                                             f.conf_file.string() + ")",
                                                         "dkms.conf: Warning! Zero modules specified."});
    // On a Debian-family system CLEAN is run after the build (as Debian's dkms does): not deprecated there.
    Fixture d("debian");
    d.add_kernel(K);
    d.load("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nREMAKE_INITRD=yes\nCLEAN='make clean'\n");
    CHECK(d.report.err_lines == std::vector<std::string>{"Deprecated feature: REMAKE_INITRD (" +
                                                             d.conf_file.string() + ")",
                                                         "dkms.conf: Warning! Zero modules specified."});
    f.report.err_lines.clear();
    f.load("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nCLEAN=true\nDEST_MODULE_LOCATION[0]=/kernel\n");
    CHECK(f.report.err_lines.empty());   // CLEAN=true is the harmless idiom
}

TEST_CASE("MAKE gets -j and KERNELRELEASE; MAKE_MATCH's last match wins", "[dkms_conf]") {
    Fixture f;
    fs::path ksrc = f.add_kernel(K);
    f.add_kernel("5.10.0-1-amd64");
    auto c = f.load(kOne);
    CHECK(c.make_command == "make -j3 KERNELRELEASE=" + K + " -C " + ksrc.string() + " M=" +
                                (f.settings.dkms_tree / "foo/1.0/build").string());
    std::string mm = kOne + "MAKE[0]='make all'\nMAKE[1]='make new'\nMAKE_MATCH[1]='^6\\.'\n"
                            "MAKE[2]='./build.sh'\nMAKE_MATCH[2]='^6\\.1\\.'\nMAKE[3]='make never'\nMAKE_MATCH[3]='^7'\n";
    CHECK(f.load(mm).make_command == "./build.sh");
    CHECK(f.load(mm, ConfMode::Strict, "5.10.0-1-amd64").make_command == "make -j3 KERNELRELEASE=5.10.0-1-amd64 all");
    f.settings.jobs = 0;
    CHECK(f.load(kOne + "MAKE='make'\n").make_command == "make -j KERNELRELEASE=" + K);
}

TEST_CASE("a clang-built kernel gets LLVM=1", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K, "CONFIG_CC_IS_CLANG=y\n");
    CHECK(f.load(kOne + "MAKE=make\n").make_command == "make -j3 KERNELRELEASE=" + K + " LLVM=1");
}

TEST_CASE("PATCH with PATCH_MATCH keeps the patches for this kernel, in index order", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    auto c = f.load(kOne + "PATCH[2]=c.patch\nPATCH[0]=a.patch\nPATCH[1]=b.patch\nPATCH_MATCH[1]='^5\\.'\n"
                           "PATCH_MATCH[2]='^6\\.1'\n");
    CHECK(c.patches == std::vector<std::string>{"a.patch", "c.patch"});
}

TEST_CASE("BUILD_EXCLUSIVE_*: kernel regex, arch, config, version range, per module", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K, "CONFIG_MODULES=y\nCONFIG_FOO=m\n# CONFIG_BAR is not set\n");
    CHECK_FALSE(f.load(kOne + "BUILD_EXCLUSIVE_KERNEL='^6\\.1'\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_KERNEL='^5\\.'\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_ARCH='aarch64'\n").build_excluded);
    CHECK_FALSE(f.load(kOne + "BUILD_EXCLUSIVE_ARCH='x86_64|i.86'\n").build_excluded);
    CHECK_FALSE(f.load(kOne + "BUILD_EXCLUSIVE_CONFIG='CONFIG_FOO'\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_CONFIG='CONFIG_BAR'\n").build_excluded);
    CHECK_FALSE(f.load(kOne + "BUILD_EXCLUSIVE_CONFIG='CONFIG_FOO !CONFIG_BAR'\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_KERNEL_MIN=6.2\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_KERNEL_MAX=5.19\n").build_excluded);
    CHECK_FALSE(f.load(kOne + "BUILD_EXCLUSIVE_KERNEL_MIN=5.15 BUILD_EXCLUSIVE_KERNEL_MAX=6.1.0-10\n").build_excluded);
    CHECK(f.load(kOne + "OBSOLETE_BY=6.0\n").build_excluded);
    CHECK(f.load(kOne + "BUILD_EXCLUSIVE_ARCH=x86_64\n").has_build_exclusive);
    CHECK_FALSE(f.load(kOne).has_build_exclusive);

    auto c = f.load("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=b\n"
                    "DEST_MODULE_LOCATION[0]=/kernel\nDEST_MODULE_LOCATION[1]=/kernel\n"
                    "BUILD_EXCLUSIVE_KERNEL_MIN[1]=7.0\n");
    CHECK_FALSE(c.build_excluded);
    CHECK_FALSE(c.modules[0].excluded);
    CHECK(c.modules[1].excluded);
}

TEST_CASE("/etc/dkms overrides are read after dkms.conf, most specific last", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    fs::path e = f.path() / "etc/dkms";
    Fixture::write(e / "foo.conf", "AUTOINSTALL=yes\nPOST_INSTALL=from-module.sh\n");
    Fixture::write(e / "foo-1.0.conf", "POST_INSTALL=from-version.sh\n");
    Fixture::write(e / ("foo--" + K + ".conf"), "PRE_BUILD=from-kernel.sh\n");
    Fixture::write(e / "bar.conf", "POST_REMOVE=never.sh\n");
    auto c = f.load(kOne);
    CHECK(c.autoinstall);
    CHECK(c.post_install == "from-version.sh");
    CHECK(c.pre_build == "from-kernel.sh");
    CHECK(c.post_remove.empty());
}

TEST_CASE("--directive sets a directive after everything else and is reported", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    f.settings.directives = {"AUTOINSTALL=yes", "MAKE=make special", "BUILT_MODULE_NAME[0]=x"};
    auto c = f.load(kOne);
    CHECK(c.autoinstall);
    CHECK(c.make_command == "make -j3 KERNELRELEASE=" + K + " special");
    CHECK(c.modules[0].built_name == "foo");
    CHECK(f.report.err_has("export: 'BUILT_MODULE_NAME[0]': not a valid identifier"));
    CHECK(std::find(f.report.out_lines.begin(), f.report.out_lines.end(), "DIRECTIVE: AUTOINSTALL=\"yes\"") !=
          f.report.out_lines.end());
}

TEST_CASE("the conf sees dkms's variables: kernelver, arch, kernel_source_dir, module", "[dkms_conf]") {
    Fixture f;
    fs::path ksrc = f.add_kernel(K);
    auto c = f.load(kOne + "MAKE=\"./b.sh $kernelver $arch $kernel_source_dir $module $module_version\"\n");
    CHECK(c.make_command == "./b.sh " + K + " x86_64 " + ksrc.string() + " foo 1.0");
    auto d = f.load("PACKAGE_NAME=foo\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]=/kernel\n"
                    "BUILD_DEPENDS[0]=bar\nBUILD_DEPENDS[1]=baz\nPOST_ADD=post-add.sh\n");
    CHECK(d.build_depends == std::vector<std::string>{"bar", "baz"});
    CHECK(d.post_add == "post-add.sh");
}

TEST_CASE("a missing dkms.conf is exit 4 with dkms's lines", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    try {
        load_module_config(f.ctx, f.path() / "nope/dkms.conf", ConfTarget{"foo", "1", Target{K, "x86_64"}},
                           ConfMode::Strict);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::ConfMissing);
        REQUIRE(e.lines().size() == 2);
        CHECK(e.lines()[0] == "Could not locate dkms.conf file.");
    }
}

TEST_CASE("unsafe_name_reason names what is wrong", "[dkms_conf]") {
    CHECK(unsafe_name_reason("foo-1.2_3+git~x") == "");
    CHECK(unsafe_name_reason("") == "is empty");
    CHECK(unsafe_name_reason(".") == "is '.'");
    CHECK(unsafe_name_reason("..") == "is '..'");
    CHECK(unsafe_name_reason("a/b") == "contains '/'");
    CHECK(unsafe_name_reason("a\nb") == "contains a newline");
    CHECK(unsafe_name_reason("a b") == "contains whitespace");
    CHECK(unsafe_name_reason(std::string("a\x01", 2)) == "contains a control character");
    CHECK(unsafe_name_reason("-rf") == "starts with '-'");
    CHECK(unsafe_name_reason("..a") == "");   // only the exact names are special
    CHECK(unsafe_name_reason("1:2.0,x=y@z%^") == "");
    CHECK(unsafe_name_reason(std::string(120, 'a')) == "");
    CHECK(unsafe_name_reason(std::string(121, 'a')) == "is longer than 120 bytes");
    CHECK(unsafe_name_reason("6.1$(reboot)") == "contains '$', which the shell would interpret");
    CHECK(unsafe_name_reason("a;b") == "contains ';', which the shell would interpret");
    CHECK(unsafe_name_reason("a`b`") == "contains '`', which the shell would interpret");
    CHECK(unsafe_name_reason("caf\xc3\xa9") == "contains the non-ASCII byte 0xc3");
    CHECK(unsafe_name_reason("a\xff") == "contains the non-ASCII byte 0xff");
}

TEST_CASE("a module index beyond max_modules is an error, not billions of records", "[dkms_conf]") {
    Fixture f;
    f.add_kernel(K);
    CHECK(f.fails(kOne + "BUILT_MODULE_NAME[99999999999]=x\n") == ExitCode::BadConf);
    CHECK(f.report.err_has("dkms.conf: Error! 'BUILT_MODULE_NAME[99999999999]': at most 10000 modules are supported "
                           "(indexes 0 to 9999)."));
    std::string many = "PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\n";
    for (int i = 0; i < 1000; ++i)
        many += "BUILT_MODULE_NAME[" + std::to_string(i) + "]=m" + std::to_string(i) + "\nDEST_MODULE_LOCATION[" +
                std::to_string(i) + "]=/updates\n";
    CHECK(f.load(many).modules.size() == 1000);
}

TEST_CASE("kernel_in_range uses dkms's version order", "[dkms_conf]") {
    CHECK(kernel_in_range("6.1.0-9-amd64", "", ""));
    CHECK(kernel_in_range("6.1.0-9-amd64", "6.1", ""));
    CHECK_FALSE(kernel_in_range("6.1.0-9-amd64", "6.2", ""));
    CHECK(kernel_in_range("6.10.0", "6.9", ""));     // numeric, not lexical
    CHECK_FALSE(kernel_in_range("6.10.0", "", "6.9.99"));
    CHECK(kernel_in_range("5.4", "5.4", "5.4"));
}

TEST_CASE("every dkms.conf of the bookworm corpus validates for the installed 6.1 kernel", "[dkms_conf][corpus]") {
    std::string kver;
    for (auto& e : fs::directory_iterator("/usr/src")) {
        auto n = e.path().filename().string();
        if (n.rfind("linux-headers-6.1.", 0) == 0 && n.size() > 6 && n.substr(n.size() - 6) == "-amd64")
            kver = n.substr(14);
    }
    REQUIRE_FALSE(kver.empty());
    Fixture f;
    fs::create_directories(f.settings.install_tree / kver);
    fs::create_symlink("/usr/src/linux-headers-" + kver, f.settings.install_tree / kver / "build");
    size_t n = 0;
    for (auto& e : fs::directory_iterator(DKMS_CORPUS_DIR)) {
        auto name = e.path().filename().string();
        if (name.size() <= 10 || name.substr(name.size() - 10) != ".dkms.conf") continue;
        ++n;
        INFO(name);
        f.report.err_lines.clear();
        ModuleConfig c;
        REQUIRE_NOTHROW(c = load_module_config(f.ctx, e.path(), ConfTarget{"", "", Target{kver, "x86_64"}},
                                               ConfMode::Strict));
        CHECK_FALSE(c.package_name.empty());
        CHECK_FALSE(c.package_version.empty());
        CHECK_FALSE(c.make_command.empty());
        for (auto& m : c.modules) CHECK(m.dest_location == "/updates/dkms");
        for (auto& l : f.report.err_lines) CHECK(l.find("Error!") == std::string::npos);
    }
    CHECK(n >= 30);
}

TEST_CASE("framework.conf, then framework.conf.d/*.conf in order, set the trees and the other settings",
          "[dkms_conf][framework]") {
    FakeRoot r;
    FakeRoot::write(r.settings.etc_dkms() / "framework.conf",
                    "dkms_tree=/srv/dkms\nsource_tree=/srv/src\ninstall_tree=/srv/modules\nparallel_jobs=3\n"
                    "verbose=\"\"\n# tmp_location=/nowhere\n");
    FakeRoot::write(r.settings.etc_dkms() / "framework.conf.d/10-site.conf", "source_tree=/site/src\nverbose=1\n");
    FakeRoot::write(r.settings.etc_dkms() / "framework.conf.d/20-later.conf", "parallel_jobs=7\n");
    FakeRoot::write(r.settings.etc_dkms() / "framework.conf.d/30-ignored.conf.dpkg-old", "dkms_tree=/old\n");
    FakeRoot::write(r.settings.etc_dkms() / "framework.conf.d/README", "install_tree=/readme\n");
    const std::string tmp_before = r.settings.tmp_location;
    load_framework(r.settings);
    CHECK(r.settings.dkms_tree == "/srv/dkms");
    CHECK(r.settings.source_tree == "/site/src");
    CHECK(r.settings.install_tree == "/srv/modules");
    CHECK(r.settings.parallel_jobs == "7");
    CHECK(r.settings.verbose);
    CHECK(r.settings.tmp_location == tmp_before);  // a comment sets nothing
}
