// SPDX-License-Identifier: GPL-2.0-or-later
// Small string helpers every layer uses.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace dkms {

/// The words joined by `sep` ("a b c"); an empty word before the first non-empty one leaves no separator.
inline std::string join(const std::vector<std::string>& words, const std::string& sep = " ") {
    std::string out;
    for (auto& w : words) out += (out.empty() ? "" : sep) + w;
    return out;
}

/// `s` as the inside of a JSON string: quotes, backslashes and control characters escaped (bytes from
/// 0x80 up are passed on as they are: status and doctor write UTF-8).
inline std::string json_escape(const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += char(c);
        } else if (c == '\n') {
            o += "\\n";
        } else if (c == '\t') {
            o += "\\t";
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
        } else {
            o += char(c);
        }
    }
    return o;
}

}  // namespace dkms
