// SPDX-License-Identifier: GPL-2.0-or-later
// SHA-256 (FIPS 180-4) without libcrypto: the manifests' checksums on every install and uninstall.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dkms {

/// An incremental SHA-256. dkms-run's own, so that the commands that only check checksums (install,
/// uninstall, status) never load libcrypto (docs/performance.md).
class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t n);
    /// The digest; the object is spent afterwards.
    std::array<unsigned char, 32> finish();
    /// Lower-case hex of the digest.
    std::string hex();

private:
    void block(const unsigned char* p);
    std::uint32_t h_[8];
    unsigned char buf_[64];
    std::size_t used_ = 0;
    std::uint64_t length_ = 0;  ///< bytes so far
};

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace dkms
