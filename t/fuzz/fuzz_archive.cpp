// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the archive reader (decompress, read_tar, read_archive) with small limits, the
// write_tar round trip of what it accepts, and extract() into a private scratch directory.
// Input: the bytes of an archive file (.tar, or gzip/xz/zstd/bzip2 compressed).
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "dkms/archive.hpp"
#include "fuzz_support.hpp"

using namespace dkms;
using namespace dkms::archive;
namespace fz = dkms::fuzz;

namespace {

Limits small_limits() {
    Limits l;
    l.max_members = 64;
    l.max_bytes = 1 << 20;
    l.max_path = 256;
    l.max_depth = 16;
    return l;
}

std::map<std::string, const Member*> by_path(const std::vector<Member>& ms) {
    std::map<std::string, const Member*> o;
    for (auto& m : ms) o[m.path] = &m;
    return o;
}

void check_members(const std::vector<Member>& ms, const Limits& lim) {
    FUZZ_CHECK(ms.size() <= lim.max_members, "more members than the limit");
    std::map<std::string, int> seen;
    for (auto& m : ms) {
        FUZZ_CHECK(!m.path.empty() && m.path.size() <= lim.max_path, "member path '" + m.path + "'");
        FUZZ_CHECK(m.path.front() != '/' && m.path.back() != '/', "member path '" + m.path + "'");
        for (auto& c : fs::path(m.path)) FUZZ_CHECK(c != ".." && c != "." && !c.empty(), "component in " + m.path);
        FUZZ_CHECK(++seen[m.path] == 1, "member " + m.path + " twice");
        FUZZ_CHECK((m.mode & ~0777u) == 0, "mode bits beyond 0777 kept");
        if (m.type == MemberType::Symlink) FUZZ_CHECK(!m.link.empty() && m.link.front() != '/', "symlink " + m.path);
        if (m.type != MemberType::File) FUZZ_CHECK(m.data.empty(), "data on a non-file " + m.path);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Limits lim = small_limits();
    std::string_view bytes = fz::as_text(data, size);
    std::string tar;
    try {
        tar = decompress(bytes, lim);
    } catch (const ArchiveError&) {
        return 0;
    }
    FUZZ_CHECK(tar.size() <= lim.max_bytes, "decompress went beyond max_bytes");
    std::vector<Member> ms;
    try {
        ms = read_tar(tar, lim);
    } catch (const ArchiveError&) {
        return 0;
    }
    check_members(ms, lim);
    std::vector<Member> again = read_archive(bytes, lim);
    FUZZ_CHECK(again.size() == ms.size(), "read_archive and read_tar disagree");

    // What was accepted is written canonically and read back the same (mktarball after ldtarball).
    std::string rewritten = write_tar(ms, 1);
    std::vector<Member> back;
    try {
        back = read_tar(rewritten, lim);
    } catch (const ArchiveError& e) {
        fz::fail("round trip", std::string("write_tar output refused: ") + e.what());
    }
    FUZZ_CHECK(back.size() == ms.size(), "round trip changed the number of members");
    auto a = by_path(ms), b = by_path(back);
    for (auto& [p, m] : a) {
        auto it = b.find(p);
        FUZZ_CHECK(it != b.end(), "round trip lost " + p);
        const Member& n = *it->second;
        FUZZ_CHECK(n.type == m->type && n.data == m->data && n.link == m->link, "round trip changed " + p);
        if (m->type != MemberType::Symlink) FUZZ_CHECK(n.mode == m->mode, "round trip changed the mode of " + p);
        FUZZ_CHECK(n.mtime == 1, "round trip time of " + p);
    }
    FUZZ_CHECK(write_tar(back, 1) == rewritten, "write_tar is not canonical");

    // Extracting validated members stays inside the destination.
    fz::Scratch dest;
    try {
        extract(ms, dest.path());
    } catch (const Error& e) {
        fz::fail("extract", std::string("validated members do not extract: ") + e.what());
    }
    for (auto& m : ms) {
        fs::path p = dest.path() / m.path;
        struct stat st{};
        FUZZ_CHECK(lstat(p.c_str(), &st) == 0, "extract did not create " + m.path);
        if (m.type == MemberType::Symlink) {
            FUZZ_CHECK(S_ISLNK(st.st_mode), m.path + " is not a symlink");
            FUZZ_CHECK(dest.contains(p.parent_path() / m.link), "symlink " + m.path + " leads out of the archive");
        } else {
            FUZZ_CHECK(dest.contains(p), m.path + " lies outside the destination");
            FUZZ_CHECK(m.type == MemberType::File ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode), m.path + " type");
        }
    }
    return 0;
}
