// SPDX-License-Identifier: GPL-2.0-or-later
// The strict tar reader and the canonical tar writer.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "dkms/archive/archive.hpp"

namespace dkms::archive {

namespace {

constexpr std::size_t block = 512;

// Fields of a ustar header: offset and length.
struct Field {
    std::size_t off, len;
};
constexpr Field f_name{0, 100}, f_mode{100, 8}, f_uid{108, 8}, f_gid{116, 8}, f_size{124, 12}, f_mtime{136, 12},
    f_chksum{148, 8}, f_type{156, 1}, f_link{157, 100}, f_magic{257, 6}, f_version{263, 2}, f_uname{265, 32},
    f_gname{297, 32}, f_prefix{345, 155};

std::string field_str(const unsigned char* h, Field f) {
    const char* p = reinterpret_cast<const char*>(h) + f.off;
    return std::string(p, strnlen(p, f.len));
}

// Octal (space/NUL padded) or GNU base-256 number.
bool field_num(const unsigned char* h, Field f, std::uint64_t& out) {
    const unsigned char* p = h + f.off;
    if (p[0] & 0x80) {
        if (p[0] != 0x80) return false;  // negative or huge
        std::uint64_t v = 0;
        for (std::size_t i = 1; i < f.len; ++i) {
            if (v >> 56) return false;
            v = (v << 8) | p[i];
        }
        out = v;
        return true;
    }
    std::size_t i = 0;
    while (i < f.len && p[i] == ' ') ++i;
    std::uint64_t v = 0;
    bool any = false;
    for (; i < f.len && p[i] >= '0' && p[i] <= '7'; ++i) {
        if (v >> 60) return false;
        v = v * 8 + (p[i] - '0');
        any = true;
    }
    for (; i < f.len; ++i)
        if (p[i] != ' ' && p[i] != '\0') return false;
    out = v;
    return any;
}

bool checksum_ok(const unsigned char* h) {
    std::uint64_t want;
    if (!field_num(h, f_chksum, want)) return false;
    long usum = 0, ssum = 0;
    for (std::size_t i = 0; i < block; ++i) {
        bool in = i >= f_chksum.off && i < f_chksum.off + f_chksum.len;
        usum += in ? ' ' : h[i];
        ssum += in ? ' ' : static_cast<signed char>(h[i]);
    }
    return std::uint64_t(usum) == want || (ssum >= 0 && std::uint64_t(ssum) == want);
}

bool all_zero(const unsigned char* h) {
    for (std::size_t i = 0; i < block; ++i)
        if (h[i]) return false;
    return true;
}

std::string printable(std::string_view s) {
    std::string r;
    for (unsigned char c : s.substr(0, 200)) {
        if (c >= 0x20 && c < 0x7f) r += char(c);
        else {
            static const char* hex = "0123456789abcdef";
            r += "\\x";
            r += hex[c >> 4];
            r += hex[c & 15];
        }
    }
    if (s.size() > 200) r += "...";
    return r;
}

std::vector<std::string> split(std::string_view p) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i <= p.size()) {
        std::size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        parts.emplace_back(p.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

// max_path bounds the member path as read_tar returns it. A name as stored may be longer by
// a directory's trailing '/' (write_tar adds one) and "./" parts; this bounds what is looked at.
std::size_t raw_path_limit(const Limits& lim) { return 2 * lim.max_path + 16; }

// Normalise a member path: drop "./" and empty components; refuse absolute paths and "..".
std::string clean_path(const std::string& raw, const Limits& lim) {
    auto too_long = [&] {
        return ArchiveError(printable(raw), "path longer than " + std::to_string(lim.max_path) + " bytes");
    };
    if (raw.size() > raw_path_limit(lim)) throw too_long();
    if (raw.find('\0') != std::string::npos) throw ArchiveError(printable(raw), "NUL byte in path");
    if (!raw.empty() && raw.front() == '/') throw ArchiveError(printable(raw), "absolute path refused");
    std::string out;
    std::size_t depth = 0;
    for (auto& c : split(raw)) {
        if (c.empty() || c == ".") continue;
        if (c == "..") throw ArchiveError(printable(raw), "'..' in path refused");
        // NAME_MAX of Linux file systems: such a member could never be extracted.
        if (c.size() > 255) throw ArchiveError(printable(raw), "path component longer than 255 bytes");
        if (++depth > lim.max_depth) throw ArchiveError(printable(raw), "path nested too deep");
        if (!out.empty()) out += '/';
        out += c;
    }
    if (out.size() > lim.max_path) throw too_long();
    return out;
}

// pax extended header records "LEN key=value\n"; only path, linkpath and size matter here.
std::map<std::string, std::string> parse_pax(std::string_view d, const std::string& where) {
    std::map<std::string, std::string> kv;
    while (!d.empty()) {
        std::size_t sp = d.find(' ');
        if (sp == std::string_view::npos || sp == 0 || sp > 20) throw ArchiveError(where, "malformed pax header");
        std::size_t len = 0;
        for (std::size_t i = 0; i < sp; ++i) {
            if (d[i] < '0' || d[i] > '9') throw ArchiveError(where, "malformed pax header");
            len = len * 10 + std::size_t(d[i] - '0');
        }
        if (len <= sp + 1 || len > d.size() || d[len - 1] != '\n') throw ArchiveError(where, "malformed pax header");
        std::string_view rec = d.substr(sp + 1, len - sp - 2);
        std::size_t eq = rec.find('=');
        if (eq == std::string_view::npos) throw ArchiveError(where, "malformed pax header");
        kv[std::string(rec.substr(0, eq))] = std::string(rec.substr(eq + 1));
        d.remove_prefix(len);
    }
    return kv;
}

// Would following `path` (with the symlinks among `links`) leave the archive root?
// Walks components like the kernel does, with the same 40-link budget.
bool escapes(const std::string& path, const std::map<std::string, std::string>& links) {
    std::vector<std::string> stack;  // resolved components so far
    std::vector<std::string> todo = split(path);
    std::reverse(todo.begin(), todo.end());
    int budget = 40;
    while (!todo.empty()) {
        std::string c = todo.back();
        todo.pop_back();
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (stack.empty()) return true;
            stack.pop_back();
            continue;
        }
        stack.push_back(c);
        std::string joined;
        for (auto& s : stack) joined += (joined.empty() ? "" : "/") + s;
        auto it = links.find(joined);
        if (it == links.end()) continue;
        if (--budget < 0) return true;  // a loop: refuse as well
        stack.pop_back();
        if (!it->second.empty() && it->second.front() == '/') return true;
        auto parts = split(it->second);
        for (auto p = parts.rbegin(); p != parts.rend(); ++p) todo.push_back(*p);
    }
    return false;
}

}  // namespace

namespace {

// One header block and the data that follows it.
struct Entry {
    const unsigned char* h;
    std::string where;  ///< the name field, printable, for messages
    std::uint64_t size = 0, mode = 0, mtime = 0;
    char type = 0;
    std::string_view data;
};

// The next entry at `pos` (advanced past its data); false at the end-of-archive marker or the end.
bool next_entry(std::string_view tar, std::size_t& pos, std::size_t& headers, const Limits& lim, Entry& e,
                bool& ended) {
    if (pos + block > tar.size()) return false;
    e.h = reinterpret_cast<const unsigned char*>(tar.data() + pos);
    if (all_zero(e.h)) {
        ended = true;
        return false;
    }
    if (++headers > lim.max_members * 2 + 16)
        throw ArchiveError("", "more than " + std::to_string(lim.max_members) + " members; refusing an archive this large");
    e.where = printable(field_str(e.h, f_name));
    if (!checksum_ok(e.h)) throw ArchiveError(e.where, "header checksum mismatch (corrupt or not a tar archive)");
    if (!field_num(e.h, f_size, e.size)) throw ArchiveError(e.where, "bad size field");
    if (!field_num(e.h, f_mode, e.mode)) e.mode = 0644;
    if (!field_num(e.h, f_mtime, e.mtime) || e.mtime > (1ull << 40)) e.mtime = 0;
    e.type = char(e.h[f_type.off]);
    pos += block;
    std::uint64_t padded = (e.size + block - 1) / block * block;
    if (e.size > lim.max_bytes || padded > tar.size() - pos) throw ArchiveError(e.where, "truncated archive");
    e.data = tar.substr(pos, std::size_t(e.size));
    pos += std::size_t(padded);
    return true;
}

// GNU long names and pax records: they apply to the next member.
struct Pending {
    std::string long_name, long_link;
    std::map<std::string, std::string> pax;
    bool have_long_name = false, have_long_link = false;

    // True when `e` is such a record (taken here).
    bool take(const Entry& e, const Limits& lim) {
        if (e.type == 'L' || e.type == 'K') {
            if (e.size > raw_path_limit(lim) + 1)
                throw ArchiveError("", "long name record over " + std::to_string(raw_path_limit(lim)) + " bytes");
            std::string v(e.data.data(), strnlen(e.data.data(), e.data.size()));
            if (e.type == 'L') long_name = v, have_long_name = true;
            else long_link = v, have_long_link = true;
            return true;
        }
        if (e.type == 'x' || e.type == 'g') {
            if (e.size > 64 * 1024) throw ArchiveError(e.where, "pax header too large");
            if (e.type == 'x')
                for (auto& [k, v] : parse_pax(e.data, e.where)) pax[k] = v;
            return true;
        }
        return false;
    }
    bool dangling() const { return have_long_name || have_long_link || !pax.empty(); }
};

MemberType member_type(char type, const std::string& name) {
    switch (type) {
        case '0': case '\0': case '7': return MemberType::File;
        case '5': return MemberType::Directory;
        case '2': return MemberType::Symlink;
        case '1': throw ArchiveError(printable(name), "hard links are not accepted");
        case '3': case '4': throw ArchiveError(printable(name), "device files are not accepted");
        case '6': throw ArchiveError(printable(name), "FIFOs are not accepted");
        default: throw ArchiveError(printable(name), std::string("unsupported entry type '") + printable(std::string(1, type)) + "'");
    }
}

// The member of entry `e`, its name and link from the pending records (which it uses up); false for
// the "./" root entry.
bool make_member(const Entry& e, Pending& pending, const Limits& lim, Member& m) {
    std::string name = field_str(e.h, f_name);
    if (field_str(e.h, f_magic) == "ustar" && field_str(e.h, f_version) == "00") {
        std::string prefix = field_str(e.h, f_prefix);
        if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (pending.have_long_name) name = pending.long_name;
    if (pending.pax.count("path")) name = pending.pax["path"];
    std::string link = field_str(e.h, f_link);
    if (pending.have_long_link) link = pending.long_link;
    if (pending.pax.count("linkpath")) link = pending.pax["linkpath"];
    if (pending.pax.count("size")) throw ArchiveError(printable(name), "pax size records are not supported");
    pending = Pending{};

    m.mode = unsigned(e.mode) & 0777;
    m.mtime = std::int64_t(e.mtime);
    m.type = member_type(e.type, name);
    m.path = clean_path(name, lim);
    if (m.path.empty()) {
        if (m.type != MemberType::Directory) throw ArchiveError(printable(name), "the archive root must be a directory");
        return false;  // "./"
    }
    if (m.type == MemberType::File) m.data.assign(e.data);
    else if (e.size != 0) throw ArchiveError(m.path, "a directory or symlink entry with data");
    if (m.type == MemberType::Symlink) {
        if (link.empty()) throw ArchiveError(m.path, "empty symlink target");
        if (link.front() == '/') throw ArchiveError(m.path, "symlink to an absolute path (" + printable(link) + ") refused");
        if (link.size() > lim.max_path) throw ArchiveError(m.path, "symlink target too long");
        m.link = link;
    }
    return true;
}

// Whole-archive checks: no path below a file or a symlink, no symlink leaving the root.
void check_tree(const std::vector<Member>& out, const std::map<std::string, MemberType>& seen) {
    std::map<std::string, std::string> links;
    for (auto& m : out)
        if (m.type == MemberType::Symlink) links[m.path] = m.link;
    for (auto& m : out) {
        std::string prefix;
        auto parts = split(m.path);
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            prefix += (i ? "/" : "") + parts[i];
            auto it = seen.find(prefix);
            if (it == seen.end()) continue;
            if (it->second == MemberType::Symlink) throw ArchiveError(m.path, "lies below the symlink " + prefix);
            if (it->second == MemberType::File) throw ArchiveError(m.path, "lies below the file " + prefix);
        }
        if (m.type == MemberType::Symlink) {
            std::string dir = m.path.find('/') == std::string::npos ? "" : m.path.substr(0, m.path.rfind('/'));
            if (escapes((dir.empty() ? "" : dir + "/") + m.link, links))
                throw ArchiveError(m.path, "symlink to " + printable(m.link) + " points outside the archive");
        }
    }
}

}  // namespace

std::vector<Member> read_tar(std::string_view tar, const Limits& lim) {
    if (tar.size() > lim.max_bytes) throw ArchiveError("", "archive larger than the limit of " + std::to_string(lim.max_bytes) + " bytes");
    std::vector<Member> out;
    std::map<std::string, MemberType> seen;
    Pending pending;
    std::size_t pos = 0, headers = 0;
    bool ended = false;
    Entry e;
    while (next_entry(tar, pos, headers, lim, e, ended)) {
        if (pending.take(e, lim)) continue;
        Member m;
        if (!make_member(e, pending, lim, m)) continue;
        if (auto it = seen.find(m.path); it != seen.end()) {
            if (!(it->second == MemberType::Directory && m.type == MemberType::Directory))
                throw ArchiveError(m.path, "appears more than once");
            continue;
        }
        seen[m.path] = m.type;
        if (out.size() >= lim.max_members)
            throw ArchiveError("", "more than " + std::to_string(lim.max_members) + " members; refusing an archive this large");
        out.push_back(std::move(m));
    }
    if (!ended) throw ArchiveError("", "truncated archive (no end-of-archive marker)");
    if (pending.dangling()) throw ArchiveError("", "truncated archive (dangling long-name record)");
    check_tree(out, seen);
    return out;
}

namespace {

void put_str(unsigned char* h, Field f, std::string_view s) {
    std::memcpy(h + f.off, s.data(), std::min(s.size(), f.len));
}

void put_oct(unsigned char* h, Field f, std::uint64_t v) {
    std::string s(f.len - 1, '0');
    for (std::size_t i = s.size(); i-- > 0 && v;) {
        s[i] = char('0' + (v & 7));
        v >>= 3;
    }
    if (v) throw Error(ExitCode::InstallFailed, "tar: number too large for a header field");
    put_str(h, f, s);
}

void header(std::string& out, const std::string& name, char type, unsigned mode, std::uint64_t size,
            std::int64_t mtime, const std::string& link) {
    unsigned char h[block] = {};
    put_str(h, f_name, name);
    put_oct(h, f_mode, mode);
    put_oct(h, f_uid, 0);
    put_oct(h, f_gid, 0);
    put_oct(h, f_size, size);
    put_oct(h, f_mtime, std::uint64_t(std::max<std::int64_t>(mtime, 0)));
    h[f_type.off] = static_cast<unsigned char>(type);
    put_str(h, f_link, link);
    std::memcpy(h + f_magic.off, "ustar  ", 8);  // GNU magic + version (we use GNU long names)
    put_str(h, f_uname, "root");
    put_str(h, f_gname, "root");
    std::memset(h + f_chksum.off, ' ', f_chksum.len);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    char ck[8];
    std::snprintf(ck, sizeof ck, "%06o", sum);
    std::memcpy(h + f_chksum.off, ck, 7);  // six digits, NUL, then the space already there
    out.append(reinterpret_cast<const char*>(h), block);
}

void pad(std::string& out) {
    if (out.size() % block) out.append(block - out.size() % block, '\0');
}

void long_record(std::string& out, char type, const std::string& value, std::int64_t mtime) {
    header(out, "././@LongLink", type, 0644, value.size() + 1, mtime, "");
    out += value;
    out += '\0';
    pad(out);
}

}  // namespace

std::string write_tar(std::vector<Member> members, std::int64_t mtime) {
    // Parents before children, siblings by byte order: compare component by component.
    std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
        return split(a.path) < split(b.path);
    });
    std::string out;
    for (auto& m : members) {
        std::string name = m.path + (m.type == MemberType::Directory ? "/" : "");
        if (name.size() > 100) long_record(out, 'L', name, mtime);
        if (m.link.size() > 100) long_record(out, 'K', m.link, mtime);
        char type = m.type == MemberType::File ? '0' : m.type == MemberType::Directory ? '5' : '2';
        unsigned mode = m.type == MemberType::Symlink ? 0777 : (m.mode & 0777);
        header(out, name, type, mode, m.type == MemberType::File ? m.data.size() : 0, mtime, m.link);
        if (m.type == MemberType::File) {
            out += m.data;
            pad(out);
        }
    }
    out.append(2 * block, '\0');
    // GNU tar rounds archives up to a 10 KiB record; do the same so dkms's tar sees a familiar shape.
    constexpr std::size_t record = 20 * block;
    if (out.size() % record) out.append(record - out.size() % record, '\0');
    return out;
}

}  // namespace dkms::archive
