// SPDX-License-Identifier: GPL-2.0-or-later
// A small strict tar reader and writer (ustar + GNU long names + pax path records) and the
// compressors dkms archives use. Nothing here touches the dkms tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dkms/core/error.hpp"

namespace dkms::archive {

namespace fs = std::filesystem;

/// An archive was refused. `member` names the offending entry ("" for the archive as a whole).
/// The exit code is 7, dkms's "not a valid DKMS tarball".
class ArchiveError : public Error {
public:
    ArchiveError(std::string member, std::string reason)
        : Error(ExitCode::ModuleMissing, member.empty() ? reason : "member '" + member + "': " + reason),
          member_(std::move(member)), reason_(std::move(reason)) {}
    const std::string& member() const noexcept { return member_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string member_, reason_;
};

/// What a reader accepts at most; an archive beyond any of these is refused as a whole.
struct Limits {
    std::size_t max_members = 20000;            ///< entries, directories included
    std::uint64_t max_bytes = 1ull << 30;       ///< uncompressed tar stream size (1 GiB)
    std::size_t max_path = 1024;                ///< bytes in one member path
    std::size_t max_depth = 64;                 ///< components in one member path
};

enum class MemberType { File, Directory, Symlink };

/// One entry of an archive: a path relative to the archive root (no "./" prefix, no trailing '/').
struct Member {
    std::string path;
    MemberType type = MemberType::File;
    unsigned mode = 0644;       ///< permission bits only (setuid/setgid/sticky are dropped on read)
    std::string data;           ///< file contents
    std::string link;           ///< symlink target (relative, stays inside the archive)
    std::int64_t mtime = 0;     ///< filled by collect_tree and read_tar; write_tar writes one time for all
};

/// Parse and validate an uncompressed tar stream held in memory. This is the fuzzing entry point:
/// it never touches the filesystem and throws ArchiveError on anything it does not accept:
/// absolute paths, "..", symlinks resolving outside the archive (also through other symlinks),
/// hard links, device files and FIFOs, a path below a file or symlink, duplicate non-directory
/// entries, bad checksums, truncation, and members, sizes or paths beyond `limits`.
/// The "./" root entry is dropped. Members come back in archive order.
std::vector<Member> read_tar(std::string_view tar, const Limits& limits = {});

enum class Compression { None, Gzip, Xz, Zstd, Bzip2 };

/// The compression a file name asks for: .tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.zst/.tzst, .tar.bz2/.tbz2.
/// Any other name gets an uncompressed tar, as `tar -caf` does.
Compression compression_for_name(const std::string& filename);

/// Undo gzip/xz/zstd/bzip2 (recognised by their magic numbers; anything else is returned as is),
/// refusing output beyond limits.max_bytes without ever allocating more than that.
std::string decompress(std::string_view data, const Limits& limits = {});

/// Compress deterministically (no names or times in headers): same input, same bytes.
std::string compress(std::string_view data, Compression c);

/// decompress() then read_tar().
std::vector<Member> read_archive(std::string_view file_bytes, const Limits& limits = {});

/// A tar stream of `members` in a canonical order (parents first, then by name), owner root:root,
/// every mtime = `mtime`, GNU long-name records for paths over 100 bytes. Same input, same bytes.
std::string write_tar(std::vector<Member> members, std::int64_t mtime);

/// The files, directories and symlinks below `dir` as members under `prefix` ("" = top level).
/// Refuses (Error) device files, sockets and FIFOs. `dir` itself is added as a directory when
/// prefix is not empty.
void collect_tree(const fs::path& dir, const std::string& prefix, std::vector<Member>& out);

/// The newest mtime among members (0 for none): a reproducible default archive time.
std::int64_t newest_mtime(const std::vector<Member>& members);

/// Write validated members below `dest`, an existing directory that should be empty and private.
/// Files are created with O_EXCL|O_NOFOLLOW; missing parent directories are created.
void extract(const std::vector<Member>& members, const fs::path& dest);

}  // namespace dkms::archive
