// SPDX-License-Identifier: GPL-2.0-or-later
// Strict #TOKEN# substitution for maintainer-script templates.
#include <set>

#include "dkms/deb/debhelper.hpp"
#include "dkms/core/error.hpp"

namespace dkms::dh {
namespace {

bool token_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

std::string render_autoscript(const std::string& name, const std::string& tmpl, const Tokens& tokens) {
    std::string out;
    out.reserve(tmpl.size());
    std::set<std::string> used, missing;
    size_t i = 0;
    while (i < tmpl.size()) {
        if (tmpl[i] == '#') {
            size_t j = i + 1;
            while (j < tmpl.size() && token_char(tmpl[j])) ++j;
            if (j < tmpl.size() && j > i + 1 && tmpl[j] == '#') {
                std::string key = tmpl.substr(i + 1, j - i - 1);
                if (auto it = tokens.find(key); it != tokens.end()) {
                    out += it->second;
                    used.insert(key);
                } else {
                    missing.insert(key);
                }
                i = j + 1;
                continue;
            }
        }
        out += tmpl[i++];
    }
    if (!missing.empty())
        throw Error(ExitCode::Error, "autoscript " + name + " uses #" + *missing.begin() + "# but no value was given");
    for (const auto& [k, v] : tokens)
        if (!used.count(k)) throw Error(ExitCode::Error, "autoscript " + name + " does not use the value given for #" + k + "#");
    return out;
}

}  // namespace dkms::dh
