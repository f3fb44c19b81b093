// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers shared by the lint sources (not part of the public API).
#pragma once

#include "dkms/lint/lint.hpp"

namespace dkms::lint {

/// The severity lint_tags() gives `tag` (Error for an unknown tag).
Severity severity_of(std::string_view tag);

/// A finding with the tag's severity.
inline Finding make(std::string tag, std::string file, int line, std::string message) {
    Severity s = severity_of(tag);
    return Finding{std::move(tag), s, std::move(file), line, std::move(message)};
}

}  // namespace dkms::lint
