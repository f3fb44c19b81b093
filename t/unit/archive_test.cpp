// SPDX-License-Identifier: GPL-2.0-or-later
// The strict tar reader and writer over byte buffers (the same entry point a fuzzer uses).
#include <catch2/catch.hpp>

#include "dkms/archive/archive.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/deb/dpkg.hpp"

using namespace dkms::archive;

namespace {
Member file(std::string p, std::string d) { return {std::move(p), MemberType::File, 0644, std::move(d), {}, 0}; }
Member dir(std::string p) { return {std::move(p), MemberType::Directory, 0755, {}, {}, 0}; }
Member sym(std::string p, std::string t) { return {std::move(p), MemberType::Symlink, 0777, {}, std::move(t), 0}; }
}  // namespace

TEST_CASE("write_tar and read_tar round trip, long names included", "[archive]") {
    std::string longname = "a/" + std::string(150, 'x') + "/f.c";
    std::vector<Member> in{file(longname, "long"), dir("a"), file("a/b.c", std::string(1000, 'q')), sym("a/l", "b.c")};
    std::string tar = write_tar(in, 1700000000);
    CHECK(tar.size() % 10240 == 0);
    auto out = read_tar(tar);
    REQUIRE(out.size() == 4);  // no parent directory is invented for the long name
    CHECK(out[0].path == "a");
    CHECK(out[0].type == MemberType::Directory);
    bool saw_long = false;
    for (auto& m : out) {
        CHECK(m.mtime == 1700000000);
        if (m.path == longname) saw_long = m.data == "long";
        if (m.path == "a/l") CHECK(m.link == "b.c");
    }
    CHECK(saw_long);
    CHECK(write_tar(in, 1700000000) == tar);
}

TEST_CASE("every compression round-trips and is deterministic", "[archive]") {
    std::string tar = write_tar({file("x", "hello")}, 0);
    for (auto c : {Compression::None, Compression::Gzip, Compression::Xz, Compression::Zstd, Compression::Bzip2}) {
        std::string z = compress(tar, c);
        CHECK(z == compress(tar, c));
        CHECK(decompress(z) == tar);
    }
    CHECK(compression_for_name("a.tar.zst") == Compression::Zstd);
    CHECK(compression_for_name("a.dkms.tar.gz") == Compression::Gzip);
    CHECK(compression_for_name("a.dkms") == Compression::None);
}

TEST_CASE("a decompression bomb stops at the limit", "[archive]") {
    std::string zeros(8 << 20, '\0');
    Limits lim;
    lim.max_bytes = 1 << 20;
    for (auto c : {Compression::Gzip, Compression::Xz, Compression::Zstd, Compression::Bzip2})
        CHECK_THROWS_WITH(decompress(compress(zeros, c), lim), Catch::Contains("uncompressed size exceeds the limit"));
}

TEST_CASE("hostile member lists are refused", "[archive]") {
    auto refuse = [](std::vector<Member> ms, const char* why) {
        // write_tar does not validate, so it can produce what an attacker would.
        CHECK_THROWS_WITH(read_tar(write_tar(std::move(ms), 0)), Catch::Contains(why));
    };
    refuse({file("../x", "")}, "'..' in path refused");
    refuse({file("a/../../x", "")}, "'..' in path refused");
    refuse({sym("l", "/etc/passwd")}, "symlink to an absolute path");
    refuse({sym("l", "../..")}, "points outside the archive");
    refuse({dir("d"), sym("d/l1", "../x"), sym("l2", "d/l1/../..")}, "points outside the archive");
    refuse({sym("a", "b"), sym("b", "a")}, "points outside the archive");  // a loop
    refuse({dir("d"), sym("l", "d"), file("l/x", "")}, "lies below the symlink l");
    refuse({file("f", ""), file("f/x", "")}, "lies below the file f");
    Limits lim;
    lim.max_members = 3;
    CHECK_THROWS_WITH(read_tar(write_tar({file("a", ""), file("b", ""), file("c", ""), file("d", "")}, 0), lim),
                      Catch::Contains("more than 3 members"));
}

TEST_CASE("corrupt headers and truncation are refused", "[archive]") {
    std::string tar = write_tar({file("x", std::string(2000, 'a'))}, 0);
    std::string bad = tar;
    bad[0] = 'y';
    CHECK_THROWS_WITH(read_tar(bad), Catch::Contains("checksum"));
    CHECK_THROWS_WITH(read_tar(tar.substr(0, 1024)), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(read_tar(tar.substr(0, 512 + 2048)), Catch::Contains("truncated"));
    CHECK(read_tar(std::string(1024, '\0')).empty());
    CHECK_THROWS_WITH(read_tar(""), Catch::Contains("truncated"));
}

TEST_CASE("mkbmdeb's one-package version follows the kernel set", "[archive][debs]") {
    using dkms::Target;
    using dkms::binary_modules_version;
    namespace dpkg = dkms::dpkg;
    const Target k57{"6.1.0-57-amd64", "x86_64"}, k58{"6.1.0-58-amd64", "x86_64"}, k9{"6.1.0-9-amd64", "x86_64"};
    const std::string v2 = binary_modules_version("1.0", {k57, k58});
    CHECK(v2.rfind("1.0+k6.1.0.58.amd64.2.", 0) == 0);
    CHECK(v2.size() == std::string("1.0+k6.1.0.58.amd64.2.").size() + 8);
    CHECK(binary_modules_version("1.0", {k58, k57}) == v2);        // order does not matter
    CHECK(binary_modules_version("1.0", {k58, k57, k57}) == v2);   // nor repeats
    const std::string v1 = binary_modules_version("1.0", {k57});
    CHECK(dpkg::compare_versions(v1, v2) < 0);                      // a newer kernel: higher
    const std::string v3 = binary_modules_version("1.0", {k9, k57, k58});
    CHECK(dpkg::compare_versions(v2, v3) < 0);                      // one more, same newest: higher
    CHECK(binary_modules_version("1.0", {k9, k58}) != v2);          // another set: another version
    CHECK(binary_modules_version("1.0", {k9, k57}).rfind("1.0+k6.1.0.57.amd64.2.", 0) == 0);  // 57 > 9 (numeric)
    CHECK(binary_modules_version("1.0-2", {k57}).rfind("1.0-2+k6.1.0.57.amd64.1.", 0) == 0);
    CHECK(binary_modules_version("1.0", {{"5.10.0-0.bpo.15-amd64", "x86_64"}, k57}).rfind("1.0+k6.1.0.57.amd64.2.", 0) == 0);
    CHECK_THROWS(binary_modules_version("1.0", {}));
}
