// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the archive reader (decompress, read_tar, read_archive) with small limits, the
// write_tar round trip of what it accepts, and extract() into a private scratch directory.
// Input: the bytes of an archive file (.tar, or gzip/xz/zstd/bzip2 compressed); see
// fix_checksums for inputs of odd length.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "dkms/archive/archive.hpp"
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

// Mutations of a header almost never keep its checksum right, so most mutants would stop at
// the first check. For inputs of odd length (a trailing byte read_tar ignores), the checksum
// of every header is recomputed first, so the fuzzer also reaches everything behind it.
std::string fix_checksums(std::string t) {
    for (std::size_t pos = 0; pos + 512 <= t.size();) {
        unsigned char* h = reinterpret_cast<unsigned char*>(t.data() + pos);
        if (std::all_of(h, h + 512, [](unsigned char c) { return c == 0; })) break;
        std::memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (std::size_t i = 0; i < 512; ++i) sum += h[i];
        char ck[8];
        std::snprintf(ck, sizeof ck, "%06o", sum & 0777777);
        std::memcpy(h + 148, ck, 7);
        std::uint64_t size = 0;  // octal only (base-256 sizes are left to the plain inputs)
        for (std::size_t i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; ++i) size = size * 8 + (h[i] - '0');
        if (size > t.size()) break;
        pos += 512 + (size + 511) / 512 * 512;
    }
    return t;
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
    bool fixed = size % 2 == 1;
    if (fixed) tar = fix_checksums(std::move(tar));
    std::vector<Member> ms;
    try {
        ms = read_tar(tar, lim);
    } catch (const ArchiveError&) {
        return 0;
    }
    check_members(ms, lim);
    if (!fixed) FUZZ_CHECK(read_archive(bytes, lim).size() == ms.size(), "read_archive and read_tar disagree");

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
