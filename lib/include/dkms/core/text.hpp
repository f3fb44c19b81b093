// SPDX-License-Identifier: GPL-2.0-or-later
// Small string helpers every layer uses.
#pragma once

#include <string>
#include <vector>

namespace dkms {

/// The words joined by `sep` ("a b c"); an empty word before the first non-empty one leaves no separator.
inline std::string join(const std::vector<std::string>& words, const std::string& sep = " ") {
    std::string out;
    for (auto& w : words) out += (out.empty() ? "" : sep) + w;
    return out;
}

}  // namespace dkms
