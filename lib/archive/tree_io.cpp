// SPDX-License-Identifier: GPL-2.0-or-later
// Between directories and archive members: collecting a tree, extracting validated members.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "dkms/archive/archive.hpp"
#include "dkms/sys/fs.hpp"

namespace dkms::archive {

void collect_tree(const fs::path& dir, const std::string& prefix, std::vector<Member>& out) {
    if (!prefix.empty()) {
        struct stat st{};
        if (stat(dir.c_str(), &st) != 0) throw SystemError("cannot read " + dir.string(), errno);
        out.push_back({prefix, MemberType::Directory, unsigned(st.st_mode & 0755), {}, {}, st.st_mtime});
    }
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    if (ec) throw SystemError("cannot list " + dir.string(), ec.value());
    std::sort(entries.begin(), entries.end());
    for (auto& p : entries) {
        std::string name = (prefix.empty() ? "" : prefix + "/") + p.filename().string();
        struct stat st{};
        if (lstat(p.c_str(), &st) != 0) throw SystemError("cannot read " + p.string(), errno);
        if (S_ISDIR(st.st_mode)) {
            collect_tree(p, name, out);
        } else if (S_ISREG(st.st_mode)) {
            out.push_back({name, MemberType::File, unsigned(st.st_mode & 0755), read_file(p), {}, st.st_mtime});
        } else if (S_ISLNK(st.st_mode)) {
            std::error_code lec;
            auto target = fs::read_symlink(p, lec);
            if (lec) throw SystemError("cannot read the symlink " + p.string(), lec.value());
            out.push_back({name, MemberType::Symlink, 0777, {}, target.string(), st.st_mtime});
        } else {
            throw Error(ExitCode::InstallFailed, {p.string() + " is not a regular file, directory or symlink.",
                                                  "Remove it from the tree before making an archive."});
        }
    }
}

std::int64_t newest_mtime(const std::vector<Member>& members) {
    std::int64_t t = 0;
    for (auto& m : members) t = std::max(t, m.mtime);
    return t;
}

void extract(const std::vector<Member>& members, const fs::path& dest) {
    auto make_dirs = [&](const fs::path& rel) {
        fs::path cur = dest;
        for (auto& c : rel) {
            cur /= c;
            if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) throw SystemError("cannot create " + cur.string(), errno);
            struct stat st{};
            if (lstat(cur.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                throw Error(ExitCode::ModuleMissing, cur.string() + " is not a directory");
        }
    };
    for (auto& m : members) {
        fs::path rel(m.path);
        make_dirs(rel.parent_path());
        fs::path p = dest / rel;
        switch (m.type) {
            case MemberType::Directory:
                make_dirs(rel);
                chmod(p.c_str(), (m.mode & 0755) | 0700);
                break;
            case MemberType::Symlink:
                if (symlink(m.link.c_str(), p.c_str()) != 0) throw SystemError("cannot create " + p.string(), errno);
                break;
            case MemberType::File: {
                int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0) throw SystemError("cannot create " + p.string(), errno);
                std::string_view d = m.data;
                while (!d.empty()) {
                    ssize_t w = write(fd, d.data(), d.size());
                    if (w < 0 && errno == EINTR) continue;
                    if (w < 0) {
                        int e = errno;
                        close(fd);
                        throw SystemError("cannot write " + p.string(), e);
                    }
                    d.remove_prefix(size_t(w));
                }
                fchmod(fd, (m.mode & 0755) | 0600);
                if (close(fd) != 0) throw SystemError("cannot write " + p.string(), errno);
                break;
            }
        }
    }
}

}  // namespace dkms::archive
