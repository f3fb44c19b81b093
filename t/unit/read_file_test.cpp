// SPDX-License-Identifier: GPL-2.0-or-later
// One hardened way to read a whole file: a FIFO or a device planted where a file is expected is
// refused at once, never waited on, wherever the engine reads (debian/ files, dkms.conf checks,
// compressed modules, which are decompressed in process).
#include <sys/stat.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "dkms/archive/archive.hpp"
#include "dkms/core/error.hpp"
#include "dkms/deb/debhelper.hpp"
#include "dkms/deb/dpkg.hpp"
#include "dkms/kernel/module_files.hpp"
#include "dkms/sys/fs.hpp"
#include "fake_processes.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

TEST_CASE("a FIFO where debian/control is expected is refused, not waited on", "[read][fifo-control]") {
    FakeRoot r;
    fs::create_directories(r.path() / "debian");
    REQUIRE(mkfifo((r.path() / "debian/control").c_str(), 0644) == 0);
    CHECK_THROWS_WITH(dpkg::read_control(r.path() / "debian/control"),
                      "cannot read " + (r.path() / "debian/control").string() + ": it is a FIFO, not a regular file");
}

TEST_CASE("a FIFO where dh_dkms reads a debian/ file is refused, not waited on", "[read][fifo-debhelper]") {
    FakeRoot r;
    FakeRoot::write(r.path() / "debian/control",
                    "Source: foo\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: foo-dkms\nArchitecture: all\n"
                    "Description: x\n more\n");
    FakeRoot::write(r.path() / "as/snip", "echo #N#\n");
    setenv("DH_AUTOSCRIPTDIR", (r.path() / "as").c_str(), 1);
    REQUIRE(mkfifo((r.path() / "debian/foo-dkms.postinst.debhelper").c_str(), 0644) == 0);
    test::CaptureReporter rep;
    dh::Helper h("dh_x", "1", {}, rep, r.path());
    CHECK_THROWS_WITH(h.autoscript("foo-dkms", "postinst", "snip", {{"N", "a"}}),
                      Catch::Contains("it is a FIFO, not a regular file"));
    unsetenv("DH_AUTOSCRIPTDIR");
}

TEST_CASE("compressed modules are read in process, and must be what their name says", "[read][compressed-modules]") {
    FakeRoot r;
    const std::string image = test::fake_module_image({"version=1.0"});
    const char* path = std::getenv("PATH");
    const std::string saved = path ? path : "";
    setenv("PATH", "/nonexistent", 1);  // no gzip, xz or zstd to run
    for (auto [suffix, c] : {std::pair{".ko.gz", archive::Compression::Gzip}, std::pair{".ko.xz", archive::Compression::Xz},
                             std::pair{".ko.zst", archive::Compression::Zstd}}) {
        fs::path p = r.path() / (std::string("m") + suffix);
        FakeRoot::write(p, archive::compress(image, c));
        CHECK(read_module_image(p) == image);
        fs::path wrong = r.path() / (std::string("w") + suffix);
        FakeRoot::write(wrong, archive::compress(image, c == archive::Compression::Gzip ? archive::Compression::Xz
                                                                                        : archive::Compression::Gzip));
        CHECK_THROWS_AS(read_module_image(wrong), Error);
    }
    FakeRoot::write(r.path() / "plain.ko", image);
    CHECK(read_module_image(r.path() / "plain.ko") == image);
    setenv("PATH", saved.c_str(), 1);
}
