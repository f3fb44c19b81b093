// SPDX-License-Identifier: GPL-2.0-or-later
// Filesystem primitives built on POSIX calls so that every step is explicit and checked.
#include "dkms/sys/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "dkms/core/error.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/sys/sha256.hpp"

namespace dkms {

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() { if (fd >= 0) close(fd); }
};

void write_all(int fd, std::string_view data, const fs::path& p) {
    while (!data.empty()) {
        ssize_t w = write(fd, data.data(), data.size());
        if (w < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot write " + p.string(), errno);
        }
        data.remove_prefix(size_t(w));
    }
}

// Open a regular file for reading. O_NONBLOCK keeps a FIFO (or a device) planted where a file is
// expected from blocking us forever: it is refused before anything is read.
int open_regular(const fs::path& p) {
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw SystemError("cannot read " + p.string(), errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        throw SystemError("cannot read " + p.string(), e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        const char* kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
                           S_ISSOCK(st.st_mode) ? "a socket" : "a device";
        throw Error(ExitCode::Error, "cannot read " + p.string() + ": it is " + kind + ", not a regular file");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

}  // namespace

std::string read_file(const fs::path& p) {
    Fd fd(open_regular(p));
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t r = read(fd.fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot read " + p.string(), errno);
        }
        if (r == 0) break;
        out.append(buf, size_t(r));
    }
    return out;
}

TempFile::TempFile(const fs::path& final, std::string_view infix) : final_(final) {
    std::string tmpl = (final.parent_path() / ("." + final.filename().string())).string();
    tmpl.append(infix).append("XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    fd_ = mkostemp(buf.data(), O_CLOEXEC);
    if (fd_ < 0) throw SystemError("cannot create a temporary file in " + final.parent_path().string(), errno);
    path_ = buf.data();
}

TempFile::~TempFile() {
    close();
    if (!path_.empty()) unlink(path_.c_str());
}

void TempFile::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void TempFile::commit(mode_t mode) {
    if (fchmod(fd_, mode) != 0 || fsync(fd_) != 0) throw SystemError("cannot write " + final_.string(), errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw SystemError("cannot write " + final_.string(), errno);
    if (rename(path_.c_str(), final_.c_str()) != 0)
        throw SystemError("cannot rename " + path_.string() + " to " + final_.string(), errno);
    path_.clear();
}

void write_file_atomic(const fs::path& p, std::string_view content, mode_t mode) {
    TempFile tmp(p);
    write_all(tmp.fd(), content, p);
    tmp.commit(mode);
}

namespace {

// Copy [from, to) of `in` to the same offsets of `out`.
void copy_range(int in, int out, off_t from, off_t to, const fs::path& src, const fs::path& dst) {
    char buf[65536];
    if (lseek(in, from, SEEK_SET) < 0) throw SystemError("cannot read " + src.string(), errno);
    if (lseek(out, from, SEEK_SET) < 0) throw SystemError("cannot write " + dst.string(), errno);
    while (from < to) {
        ssize_t r = read(in, buf, size_t(std::min<off_t>(off_t(sizeof buf), to - from)));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot read " + src.string(), errno);
        }
        if (r == 0) break;
        write_all(out, std::string_view(buf, size_t(r)), dst);
        from += r;
    }
}

// Copy the data of `in` into `out`, leaving its holes holes (SEEK_DATA/SEEK_HOLE; a file system
// without them gives one data range for the whole file).
void copy_sparse(int in, int out, const fs::path& src, const fs::path& dst) {
    struct stat st{};
    if (fstat(in, &st) != 0) throw SystemError("cannot read " + src.string(), errno);
    for (off_t pos = 0; pos < st.st_size;) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO) break;  // only a hole is left
        if (data < 0) data = pos;               // no SEEK_DATA here: copy the rest
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0) hole = st.st_size;
        copy_range(in, out, data, hole, src, dst);
        pos = hole;
    }
    if (ftruncate(out, st.st_size) != 0) throw SystemError("cannot write " + dst.string(), errno);
}

}  // namespace

bool same_bytes(const fs::path& a, const fs::path& b) {
    try {
        Fd fa(open_regular(a)), fb(open_regular(b));
        struct stat sa{}, sb{};
        if (fstat(fa.fd, &sa) != 0 || fstat(fb.fd, &sb) != 0 || sa.st_size != sb.st_size) return false;
        std::vector<char> ba(65536), bb(65536);
        while (true) {
            ssize_t ra = read(fa.fd, ba.data(), ba.size());
            if (ra < 0 && errno == EINTR) continue;
            if (ra <= 0) return ra == 0;
            size_t got = 0;
            while (got < size_t(ra)) {
                ssize_t rb = read(fb.fd, bb.data() + got, size_t(ra) - got);
                if (rb < 0 && errno == EINTR) continue;
                if (rb <= 0) return false;
                got += size_t(rb);
            }
            if (std::memcmp(ba.data(), bb.data(), got) != 0) return false;
        }
    } catch (const Error&) {
        return false;
    }
}

namespace {

TempFile copy_to_temp(const fs::path& src, const fs::path& dst) {
    Fd in(open_regular(src));
    TempFile tmp(dst);
    copy_sparse(in.fd, tmp.fd(), src, dst);
    return tmp;
}

}  // namespace

void copy_file_atomic(const fs::path& src, const fs::path& dst, mode_t mode) {
    copy_to_temp(src, dst).commit(mode);
}

TempFile stage_copy(const fs::path& src, const fs::path& dst) {
    TempFile tmp = copy_to_temp(src, dst);
    // Only a start: the fsync of commit() is what makes the data durable (an error here, or a file
    // system without write-back, leaves that to it).
    sync_file_range(tmp.fd(), 0, 0, SYNC_FILE_RANGE_WRITE);
    return tmp;
}

void copy_tree(const fs::path& src, const fs::path& dst) {
    throw_if_interrupted();   // a big source tree: stop (and let the caller's TempDir go) on SIGINT/SIGTERM
    struct stat st;
    if (lstat(src.c_str(), &st) != 0) throw SystemError("cannot read " + src.string(), errno);
    if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        auto target = fs::read_symlink(src, ec);
        if (ec) throw SystemError("cannot read link " + src.string(), ec.value());
        if (symlink(target.c_str(), dst.c_str()) != 0) throw SystemError("cannot create " + dst.string(), errno);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst.c_str(), 0700) != 0) throw SystemError("cannot create " + dst.string(), errno);
        std::error_code ec;
        for (fs::directory_iterator it(src, ec), end; !ec && it != end; it.increment(ec))
            copy_tree(it->path(), dst / it->path().filename());
        if (ec) throw SystemError("cannot list " + src.string(), ec.value());
    } else if (S_ISREG(st.st_mode)) {
        copy_file_atomic(src, dst, st.st_mode & 07777);
    } else {
        return;  // sockets, fifos, devices: dkms sources never need them
    }
    chmod(dst.c_str(), st.st_mode & 07777);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

bool random_tail(std::string_view s) {
    return s.size() == 6 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

bool temp_dir_name(const std::string& n, std::string_view prefix) {
    return n.size() == prefix.size() + 6 && n.compare(0, prefix.size(), prefix) == 0 &&
           random_tail(std::string_view(n).substr(prefix.size()));
}

bool temp_file_name(const std::string& n, const std::string& stem) {
    const std::string mark = ".tmp-";
    if (n.size() < 2 + mark.size() + 6 || n[0] != '.' || !random_tail(std::string_view(n).substr(n.size() - 6)) ||
        n.compare(n.size() - 6 - mark.size(), mark.size(), mark) != 0)
        return false;
    return stem.empty() || n == "." + stem + mark + n.substr(n.size() - 6);
}

fs::path make_temp_dir(const fs::path& parent, const std::string& prefix) {
    std::string tmpl = (parent / (prefix + "XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw SystemError("cannot create a temporary directory in " + parent.string(), errno);
    return fs::path(buf.data());
}

void chown_tree(const fs::path& dir, uid_t uid, gid_t gid) {
    struct stat top;
    if (lstat(dir.c_str(), &top) != 0) throw SystemError("cannot read " + dir.string(), errno);
    if (!S_ISDIR(top.st_mode)) throw SystemError("cannot give " + dir.string() + " to its builder", ENOTDIR);
    std::vector<fs::path> todo{dir};
    while (!todo.empty()) {
        fs::path d = std::move(todo.back());
        todo.pop_back();
        if (lchown(d.c_str(), uid, gid) != 0 && errno != ENOENT)
            throw SystemError("cannot change the owner of " + d.string(), errno);
        std::error_code ec;
        for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
            struct stat st;
            if (lstat(it->path().c_str(), &st) != 0) continue;
            if (st.st_dev != top.st_dev) continue;  // a mount point: not ours
            if (S_ISDIR(st.st_mode)) {
                todo.push_back(it->path());
                continue;
            }
            if (st.st_nlink > 1) continue;
            if (lchown(it->path().c_str(), uid, gid) != 0 && errno != ENOENT)
                throw SystemError("cannot change the owner of " + it->path().string(), errno);
        }
        if (ec && ec.value() != ENOENT) throw SystemError("cannot list " + d.string(), ec.value());
    }
}

bool remove_tree(const fs::path& p) noexcept {
    std::error_code ec;
    fs::remove_all(p, ec);
    return !ec;
}

void remove_empty_parents(fs::path dir, const fs::path& stop) noexcept {
    std::error_code ec;
    auto stop_c = fs::weakly_canonical(stop, ec);
    while (!dir.empty() && dir != stop && dir != stop_c && dir.has_relative_path()) {
        if (rmdir(dir.c_str()) != 0) break;
        dir = dir.parent_path();
    }
}

std::string sha256_file(const fs::path& p) {
    Fd fd(open_regular(p));
    Sha256 h;
    char buf[65536];
    while (true) {
        ssize_t r = read(fd.fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot read " + p.string(), errno);
        }
        if (r == 0) break;
        h.update(buf, size_t(r));
    }
    return h.hex();
}

fs::path first_symlink(const fs::path& base, const fs::path& rel) noexcept {
    fs::path cur = base;
    for (auto& c : rel.relative_path()) {
        if (c.empty() || c == ".") continue;
        cur /= c;
        struct stat st;
        if (lstat(cur.c_str(), &st) != 0) return {};
        if (S_ISLNK(st.st_mode)) return cur;
    }
    return {};
}

std::string unsafe_path_below(const fs::path& dir, const fs::path& p) {
    fs::path d = dir.lexically_normal(), n = p.lexically_normal();
    if (!d.empty() && d.filename().empty()) d = d.parent_path();
    fs::path rel = n.lexically_relative(d);
    if (n.is_relative() || rel.empty() || *rel.begin() == ".." || *rel.begin() == ".")
        return "is not inside " + d.string();
    if (fs::path link = first_symlink(d, rel.parent_path()); !link.empty())
        return "passes through the symbolic link " + link.string();
    return "";
}

bool path_within(const fs::path& outer, const fs::path& inner) noexcept {
    return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
}

bool link_exists(const fs::path& p) noexcept {
    struct stat st;
    return lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool dir_exists(const fs::path& p) noexcept {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool real_dir_exists(const fs::path& p) noexcept {
    struct stat st;
    return lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_exists(const fs::path& p) noexcept {
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
}

void symlink_atomic(const fs::path& target, const fs::path& link) {
    // A fresh random name (symlink() fails on an existing one, as O_EXCL would), never a pid-based name
    // that another process could predict and plant.
    fs::path tmp;
    for (int attempt = 0;; ++attempt) {
        unsigned char rnd[6];
        std::string suffix;
        if (getentropy(rnd, sizeof rnd) != 0) throw SystemError("getentropy", errno);
        for (unsigned char c : rnd) suffix += "0123456789abcdefghijklmnopqrstuv"[c & 31];
        tmp = link.parent_path() / ("." + link.filename().string() + ".tmp-" + suffix);
        if (symlink(target.c_str(), tmp.c_str()) == 0) break;
        if (errno != EEXIST || attempt > 100) throw SystemError("cannot create " + link.string(), errno);
    }
    if (rename(tmp.c_str(), link.c_str()) != 0) {
        int e = errno;
        unlink(tmp.c_str());
        throw SystemError("cannot create " + link.string(), e);
    }
}

}  // namespace dkms
