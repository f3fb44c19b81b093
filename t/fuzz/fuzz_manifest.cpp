// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: read_manifest on arbitrary bytes (yaml-cpp behind it), and the write/read round trip.
// Input: the bytes of a <v>/<K>/<A>/.dkms-run.yaml, written into a private scratch directory.
#include <cstdio>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/tree/tree.hpp"
#include "fuzz_support.hpp"

using namespace dkms;
namespace fz = dkms::fuzz;

namespace {

std::string quoted(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            o += char(c);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            o += b;
        }
    }
    return o + "\"";
}

std::string show(const Manifest& m) {
    std::string o = "schema " + std::to_string(m.schema) + " module " + quoted(m.module) + " version " +
                    quoted(m.version) + " kernel " + quoted(m.kernel) + " arch " + quoted(m.arch) + " make " +
                    quoted(m.make_command) + "\n";
    for (auto& f : m.files)
        o += "    file " + quoted(f.name) + " sha256 " + quoted(f.sha256) + " installed_to " + quoted(f.installed_to) +
             "\n";
    return o;
}

bool same(const Manifest& a, const Manifest& b) {
    if (a.schema != b.schema || a.module != b.module || a.version != b.version || a.kernel != b.kernel ||
        a.arch != b.arch || a.make_command != b.make_command || a.files.size() != b.files.size())
        return false;
    for (size_t i = 0; i < a.files.size(); ++i)
        if (a.files[i].name != b.files[i].name || a.files[i].sha256 != b.files[i].sha256 ||
            a.files[i].installed_to != b.files[i].installed_to)
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    fz::Scratch dir;
    fz::write_bytes(dir.path() / manifest_name, fz::as_text(data, size));
    Manifest m;
    try {
        FUZZ_CHECK(read_manifest(dir.path(), m), "the manifest is there");
    } catch (const Error&) {
        return 0;  // corrupt: refused with an Error, as status and uninstall expect
    }
    for (auto& f : m.files)
        FUZZ_CHECK(!f.name.empty() && f.name.find('/') == std::string::npos && f.name != "..",
                   "accepted file name '" + f.name + "'");
    // Whatever was accepted is written back and read back unchanged (install rewrites manifests).
    fs::path again = dir.path() / "again";
    fs::create_directory(again);
    write_manifest(again, m);
    Manifest back;
    try {
        FUZZ_CHECK(read_manifest(again, back), "the rewritten manifest is there");
    } catch (const Error& e) {
        fz::fail("round trip", std::string("a manifest written by write_manifest is refused: ") + e.what());
    }
    FUZZ_CHECK(same(m, back), "write_manifest/read_manifest changed the manifest\n  read:    " + show(m) +
                                  "  written: " + read_file(again / manifest_name) + "  back:    " + show(back));
    return 0;
}
