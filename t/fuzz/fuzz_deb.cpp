// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: debian/control and debian/changelog reading (parse_deb822, read_control,
// read_changelog_head) and the version and architecture helpers applied to what they return.
// Input: the bytes of one file, read both as debian/control and as debian/changelog.
#include <algorithm>

#include "dkms/deb/dpkg.hpp"
#include "dkms/core/error.hpp"
#include "fuzz_support.hpp"

using namespace dkms;
namespace fz = dkms::fuzz;
namespace fs = std::filesystem;

namespace {

int lines_of(std::string_view text) { return int(std::count(text.begin(), text.end(), '\n')) + 1; }

void check_paragraphs(const std::vector<dpkg::Paragraph>& ps, std::string_view text) {
    int lines = lines_of(text), last = 0;
    for (auto& p : ps) {
        FUZZ_CHECK(p.line > last && p.line <= lines, "paragraph at line " + std::to_string(p.line));
        last = p.line;
        FUZZ_CHECK(!p.fields.empty(), "paragraph without fields");
        for (auto& [k, v] : p.fields) {
            FUZZ_CHECK(!k.empty() && k.find(':') == std::string::npos && k.find('\n') == std::string::npos,
                       "field name '" + k + "'");
            FUZZ_CHECK(p.get(k).has_value(), "get() does not find field " + k);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    std::string_view text = fz::as_text(data, size);
    try {
        check_paragraphs(dpkg::parse_deb822(text), text);
    } catch (const ConfigError& e) {
        FUZZ_CHECK(e.line() >= 1 && e.line() <= lines_of(text), "error line " + std::to_string(e.line()));
    }

    fz::Scratch dir;
    fs::path file = dir.path() / "file";
    fz::write_bytes(file, text);
    try {
        dpkg::Control c = dpkg::read_control(file);
        FUZZ_CHECK(c.source.get("Source").has_value(), "control without Source");
        (void)c.compat_from_build_depends();
        for (auto& p : c.packages) {
            FUZZ_CHECK(p.line > 0, "binary package without a line");
            (void)dpkg::arch_matches(p.architecture, "amd64");
            (void)dpkg::arch_matches(p.architecture, "all");
            (void)p.arch_all();
        }
    } catch (const ConfigError&) {
    }

    try {
        dpkg::ChangelogEntry e = dpkg::read_changelog_head(file);
        FUZZ_CHECK(dpkg::valid_version(e.version), "accepted an invalid version '" + e.version + "'");
        FUZZ_CHECK(dpkg::compare_versions(e.version, e.version) == 0, "version unequal to itself");
        std::string up = dpkg::strip_revision(e.version);
        std::string why;
        if (dpkg::valid_version(up, &why)) (void)dpkg::compare_versions(e.version, up);
    } catch (const ConfigError&) {
    }
    return 0;
}
