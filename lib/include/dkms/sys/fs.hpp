// SPDX-License-Identifier: GPL-2.0-or-later
// Filesystem primitives: atomic writes, tree copies, safe temporary directories, checksums.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace dkms {

namespace fs = std::filesystem;

/// Whole file as bytes; throws SystemError naming the path, and Error for anything but a regular
/// file (a FIFO or device is refused without blocking). copy_file_atomic's source and sha256_file too.
std::string read_file(const fs::path& p);

/// Write `content` to a temporary name next to `p`, fsync, then rename over `p`.
/// A crash leaves either the old or the new file, never a half-written one.
void write_file_atomic(const fs::path& p, std::string_view content, mode_t mode = 0644);

/// Copy `src` to `dst` through a temporary name in dst's directory and rename; keeps `mode`. Holes of a
/// sparse source stay holes.
void copy_file_atomic(const fs::path& src, const fs::path& dst, mode_t mode);
class TempFile;
/// The first half of copy_file_atomic, for many files in a row: `src` copied to a temporary name
/// beside `dst` and its write-back started (sync_file_range), so that the files of a batch go to
/// the disk together; commit() then fsyncs (mostly waiting for what is already under way) and
/// renames. Until committed, `dst` is untouched; the temporary file goes with the TempFile.
TempFile stage_copy(const fs::path& src, const fs::path& dst);

/// Whether two regular files hold the same bytes, compared block by block (never whole in memory);
/// false when either cannot be read.
bool same_bytes(const fs::path& a, const fs::path& b);

/// Recursive copy that keeps modes, times and symlinks (as `cp -a`); `dst` must not exist.
void copy_tree(const fs::path& src, const fs::path& dst);

/// mkdtemp under `parent` with the given prefix ("prefix" + "XXXXXX"); returns the new path.
fs::path make_temp_dir(const fs::path& parent, const std::string& prefix);

/// The random part of the names mkstemp/mkdtemp (and so the functions here) make: six letters or digits.
bool random_tail(std::string_view s);
/// "<prefix>XXXXXX": a name made by make_temp_dir(dir, prefix) (TempDir).
bool temp_dir_name(const std::string& n, std::string_view prefix);
/// ".<stem>.tmp-XXXXXX": the temporary name of write_file_atomic, copy_file_atomic and symlink_atomic
/// for <stem>; `stem` empty matches any stem. What the sweep removes and doctor reports as leftovers.
bool temp_file_name(const std::string& n, const std::string& stem = "");

/// chown -hR: `dir` and everything below it given to uid:gid, no symbolic link followed (a link
/// itself changes owner) and no other file system entered. A file with more than one link is left
/// as it is (it may be another file's name, made by whoever owned the directory). Throws
/// SystemError; a file that disappears meanwhile is skipped.
void chown_tree(const fs::path& dir, uid_t uid, gid_t gid);

/// rm -rf that never throws; returns false if something could not be removed.
bool remove_tree(const fs::path& p) noexcept;

/// Remove `dir` and its parents while they are empty, stopping at (and keeping) `stop`.
void remove_empty_parents(fs::path dir, const fs::path& stop) noexcept;

/// Hex SHA-256 of a file's bytes.
std::string sha256_file(const fs::path& p);

/// The first of base/c1, base/c1/c2, ... base/rel that is a symbolic link, or "" if none is (a
/// component that does not exist ends the walk). `base` itself is not examined. Never throws.
fs::path first_symlink(const fs::path& base, const fs::path& rel) noexcept;

/// Why `p` must not be written or deleted as a file of `dir` ("is not inside <dir>", "passes through
/// the symbolic link <l>"), or "" when it lies lexically below `dir` and no directory between them is a
/// symbolic link (the last component may be one: unlink and rename act on the link itself).
std::string unsafe_path_below(const fs::path& dir, const fs::path& p);

/// Whether `inner` is `outer` or lies below it, by whole components (/a/b is within /a, /ab is not);
/// lexical only: both should be canonical.
bool path_within(const fs::path& outer, const fs::path& inner) noexcept;

/// lstat-based tests that never throw.
bool link_exists(const fs::path& p) noexcept;   ///< p itself is a symlink
bool dir_exists(const fs::path& p) noexcept;       ///< follows symlinks
bool real_dir_exists(const fs::path& p) noexcept;  ///< a directory, not a symlink to one
bool path_exists(const fs::path& p) noexcept;

/// Create `link` -> `target` atomically (replacing an existing link).
void symlink_atomic(const fs::path& target, const fs::path& link);

/// A new file (mode 0600) under a unique name beside `final`, ".<name of final><infix>XXXXXX": removed
/// on destruction unless committed or released. The atomic writes use it; a caller that has a
/// program write the file (openssl) closes it and hands out path().
class TempFile {
public:
    explicit TempFile(const fs::path& final, std::string_view infix = ".tmp-");
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    TempFile(TempFile&& o) noexcept : final_(std::move(o.final_)), path_(std::move(o.path_)), fd_(o.fd_) {
        o.path_.clear();
        o.fd_ = -1;
    }
    TempFile& operator=(TempFile&&) = delete;
    const fs::path& path() const { return path_; }
    /// Open for writing until closed or committed.
    int fd() const { return fd_; }
    void close();
    /// Set `mode`, fsync, close and rename over `final`: a crash leaves the old or the new file, never
    /// a half-written one. Throws SystemError naming `final` (the temporary file is then removed).
    void commit(mode_t mode);
    /// Keep the file: nothing is removed on destruction.
    fs::path release() {
        close();
        auto p = path_;
        path_.clear();
        return p;
    }

private:
    fs::path final_, path_;
    int fd_ = -1;
};

/// A directory removed on destruction unless released.
class TempDir {
public:
    TempDir(const fs::path& parent, const std::string& prefix) : path_(make_temp_dir(parent, prefix)) {}
    ~TempDir() { if (!path_.empty()) remove_tree(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path release() { auto p = path_; path_.clear(); return p; }

private:
    fs::path path_;
};

}  // namespace dkms
