// SPDX-License-Identifier: GPL-2.0-or-later
// framework.conf's values parsed once into the Policy's types (conf/framework), and the paths it sets.
#include <catch2/catch.hpp>

#include "dkms/conf/framework.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

TEST_CASE("framework.conf: the policy's values are typed once, as dkms reads them", "[framework]") {
    FakeRoot r;
    load_framework(r.settings);
    CHECK_FALSE(r.settings.autoinstall_all_kernels);
    CHECK(r.settings.continue_on_error);
    CHECK_FALSE(r.settings.modprobe_on_install);
    CHECK(r.settings.lock_timeout == 300);
    CHECK(r.settings.script_timeout == 1800);

    // Any non-empty value turns a dkms switch on, "no" included (dkms tests [[ $var ]]).
    FakeRoot::write(r.path() / "etc/dkms/framework.conf",
                    "autoinstall_all_kernels=no\nmodprobe_on_install=0\ncontinue_on_error=no\nlock_timeout=-5\n");
    load_framework(r.settings);
    CHECK(r.settings.autoinstall_all_kernels);
    CHECK(r.settings.modprobe_on_install);
    CHECK_FALSE(r.settings.continue_on_error);  // only "true" and "yes" go on after a failed kernel
    CHECK(r.settings.lock_timeout == 0);

    FakeRoot::write(r.path() / "etc/dkms/framework.conf.d/50-more.conf",
                    "autoinstall_all_kernels=\ncontinue_on_error=yes\nlock_timeout=12\nscript_timeout=0\n");
    load_framework(r.settings);
    CHECK_FALSE(r.settings.autoinstall_all_kernels);
    CHECK(r.settings.continue_on_error);
    CHECK(r.settings.lock_timeout == 12);
    CHECK(r.settings.script_timeout == 0);  // no limit, as dkms

    FakeRoot::write(r.path() / "etc/dkms/framework.conf.d/60-last.conf", "continue_on_error=True\n");
    load_framework(r.settings);
    CHECK_FALSE(r.settings.continue_on_error);
}

TEST_CASE("framework.conf: the trees it names are the paths every layer reads", "[framework]") {
    FakeRoot r;
    FakeRoot::write(r.path() / "etc/dkms/framework.conf",
                    "dkms_tree=/srv/dkms\nsource_tree=\"/srv/src\"\ninstall_tree=/srv/modules\ntmp_location=/var/tmp\n");
    load_framework(r.settings);
    const Paths& p = r.settings;
    CHECK(p.dkms_tree == "/srv/dkms");
    CHECK(p.source_tree == "/srv/src");
    CHECK(p.install_tree == "/srv/modules");
    CHECK(p.tmp_location == "/var/tmp");
    CHECK(p.kernel_source_dir_for("6.1.0-9-amd64") == "/srv/modules/6.1.0-9-amd64/build");
}
