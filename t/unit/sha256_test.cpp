// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run's own SHA-256 (the manifests' checksums) against FIPS 180-4's examples and sha256sum, and
// libcrypto loaded on first use.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>

#include "dkms/sys/fs.hpp"
#include "dkms/sys/libcrypto.hpp"
#include "dkms/sys/sha256.hpp"
#include "support.hpp"

using namespace dkms;

TEST_CASE("SHA-256 of FIPS 180-4's examples", "[sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    Sha256 million;
    std::string a(1000, 'a');
    for (int i = 0; i < 1000; ++i) million.update(a.data(), a.size());
    CHECK(million.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 of files agrees with sha256sum, whatever the pieces it is fed in", "[sha256]") {
    TempDir dir(dkms::test::test_tmp_parent(), "dkms-sha256");
    std::mt19937 rng(20);
    // Lengths around the block (64) and padding (56) boundaries, and larger than the read buffer.
    for (size_t n : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65535, 65536, 65537, 200000}) {
        std::string data(n, '\0');
        for (auto& c : data) c = char(rng());
        fs::path f = dir.path() / ("f" + std::to_string(n));
        write_file_atomic(f, data);
        std::string cmd = "sha256sum < '" + f.string() + "' > '" + f.string() + ".sum'";
        REQUIRE(std::system(cmd.c_str()) == 0);
        CHECK(sha256_file(f) == read_file(f.string() + ".sum").substr(0, 64));
        Sha256 pieces;
        for (size_t at = 0; at < n; at += 1 + at % 70) pieces.update(data.data() + at, std::min(n - at, 1 + at % 70));
        CHECK(pieces.hex() == sha256_hex(data));
    }
}

TEST_CASE("libcrypto is loaded on first use, and its errors read", "[sha256]") {
    const Libcrypto& c = libcrypto();
    CHECK(&c == &libcrypto());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    REQUIRE(c.EVP_Digest("abc", 3, md, &len, c.EVP_md5(), nullptr) == 1);
    CHECK(len == 16);
    CHECK(md[0] == 0x90);  // md5("abc") = 900150983cd24fb0d6963f7d28e17f72
    CHECK(openssl_error() == "unknown OpenSSL error");
}
