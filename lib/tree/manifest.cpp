// SPDX-License-Identifier: GPL-2.0-or-later
// The YAML manifest of a built instance; with outcome.cpp (the build records), the only yaml-cpp user.
#include <yaml-cpp/yaml.h>

#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <tuple>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "dkms/kernel/module_files.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/tree/tree.hpp"

namespace dkms {

namespace {

// YAML text is Unicode: yaml-cpp reads bytes that are not UTF-8 as they are, but writes each as
// U+FFFD, so such a string would not survive being written and read back. Neither side takes one.
// The same goes for the noncharacters (U+FDD0..U+FDEF and every U+xxFFFE, U+xxFFFF), which
// yaml-cpp also writes as U+FFFD (found by t/fuzz/run; regressions/manifest/noncharacter-U+FDD4).
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        std::size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (n == 9 || i + n >= s.size()) return false;
        std::uint32_t cp = n == 0 ? c : c & (0x3f >> n);
        for (std::size_t k = 1; k <= n; ++k) {
            unsigned char d = s[i + k];
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        static const std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe) return false;
        i += n + 1;
    }
    return true;
}

std::vector<std::pair<const char*, const std::string*>> strings_of(const Manifest& m) {
    std::vector<std::pair<const char*, const std::string*>> v = {
        {"module", &m.module}, {"version", &m.version}, {"kernel", &m.kernel},
        {"arch", &m.arch}, {"make", &m.make_command}};
    for (auto& f : m.files) {
        v.push_back({"name", &f.name});
        v.push_back({"sha256", &f.sha256});
        v.push_back({"installed_to", &f.installed_to});
    }
    return v;
}

}  // namespace

namespace {

// The manifests read in this process, by what identifies a file's content: dkms-run writes a manifest
// to a temporary name and renames it, so a new content is a new inode (mtime and ctime are kept in the
// key for a file changed in place). Without it, checking the files of a version with many modules
// against every manifest parsed each manifest once per file (quadratic: 1000 modules took minutes).
struct ManifestKey {
    std::string path;
    dev_t dev;
    ino_t ino;
    off_t size;
    long mtime_s, mtime_ns, ctime_s, ctime_ns;
    bool operator<(const ManifestKey& o) const {
        return std::tie(path, dev, ino, size, mtime_s, mtime_ns, ctime_s, ctime_ns) <
               std::tie(o.path, o.dev, o.ino, o.size, o.mtime_s, o.mtime_ns, o.ctime_s, o.ctime_ns);
    }
};
std::mutex manifest_cache_mutex;  // autoinstall reads manifests from several threads
std::map<ManifestKey, Manifest> manifest_cache;

bool parse_manifest(const fs::path& p, Manifest& m);

}  // namespace

bool read_manifest(const fs::path& built_dir, Manifest& m) {
    fs::path p = built_dir / manifest_name;
    if (!path_exists(p)) return false;
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return parse_manifest(p, m);
    ManifestKey key{p.string(), st.st_dev, st.st_ino, st.st_size, long(st.st_mtim.tv_sec), st.st_mtim.tv_nsec,
                    long(st.st_ctim.tv_sec), st.st_ctim.tv_nsec};
    {
        std::lock_guard<std::mutex> g(manifest_cache_mutex);
        if (auto it = manifest_cache.find(key); it != manifest_cache.end()) {
            m = it->second;
            return true;
        }
    }
    if (!parse_manifest(p, m)) return false;  // a corrupt one throws, and is read again next time
    std::lock_guard<std::mutex> g(manifest_cache_mutex);
    if (manifest_cache.size() > 4096) manifest_cache.clear();
    manifest_cache.emplace(key, m);
    return true;
}

namespace {

bool parse_manifest(const fs::path& p, Manifest& m) {
    auto corrupt = [&](const std::string& why) { return Error(ExitCode::Error, p.string() + ": corrupt manifest: " + why); };
    try {
        std::string text = read_file(p);
        // A manifest lists a few modules; anything this large was not written by us.
        if (text.size() > 1024 * 1024) throw corrupt("larger than 1 MiB");
        YAML::Node n = YAML::Load(text);
        if (!n.IsMap()) throw corrupt("not a mapping");
        m.schema = n["schema"].as<int>();
        if (m.schema != 1) throw corrupt("schema " + std::to_string(m.schema) + " is not 1 (written by a newer dkms-run?)");
        m.module = n["module"].as<std::string>();
        m.version = n["version"].as<std::string>();
        m.kernel = n["kernel"].as<std::string>();
        m.arch = n["arch"].as<std::string>();
        m.make_command = n["make"] ? n["make"].as<std::string>() : "";
        m.files.clear();
        for (const auto& f : n["files"]) {
            ManifestFile mf;
            mf.name = f["name"].as<std::string>();
            mf.sha256 = f["sha256"].as<std::string>();
            mf.installed_to = f["installed_to"] ? f["installed_to"].as<std::string>() : "";
            if (mf.name.empty() || mf.name.find('/') != std::string::npos || mf.name == ".." ||
                module_base_name(mf.name).empty())
                throw Error(ExitCode::Error, p.string() + ": bad file name '" + mf.name + "'");
            if (mf.sha256.size() != 64 || mf.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
                throw corrupt("bad sha256 for " + mf.name);
            if (!mf.installed_to.empty() && fs::path(mf.installed_to).is_relative())
                throw corrupt("installed_to of " + mf.name + " is not an absolute path");
            m.files.push_back(mf);
        }
        for (auto& [field, value] : strings_of(m))
            if (!valid_utf8(*value))
                throw Error(ExitCode::Error, p.string() + ": corrupt manifest: " + field + " is not UTF-8");
    } catch (const YAML::Exception& e) {
        // The parser's message may quote the manifest's bytes: shown escaped, never raw to a terminal.
        std::string why;
        for (unsigned char c : std::string(e.what())) {
            if (c >= 0x20 && c < 0x7f) {
                why += char(c);
                continue;
            }
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            why += hex;
        }
        throw Error(ExitCode::Error, p.string() + ": corrupt manifest: " + why);
    }
    return true;
}

}  // namespace

void write_manifest(const fs::path& built_dir, const Manifest& m) {
    for (auto& [field, value] : strings_of(m))
        if (!valid_utf8(*value))
            throw Error(ExitCode::Error, "cannot record a " + std::string(field) + " that is not UTF-8 in " +
                                             (built_dir / manifest_name).string());
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "schema" << YAML::Value << m.schema;
    out << YAML::Key << "module" << YAML::Value << YAML::DoubleQuoted << m.module;
    out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << m.version;
    out << YAML::Key << "kernel" << YAML::Value << YAML::DoubleQuoted << m.kernel;
    out << YAML::Key << "arch" << YAML::Value << YAML::DoubleQuoted << m.arch;
    out << YAML::Key << "make" << YAML::Value << YAML::DoubleQuoted << m.make_command;
    out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
    for (auto& f : m.files) {
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << f.name;
        out << YAML::Key << "sha256" << YAML::Value << f.sha256;
        if (!f.installed_to.empty())
            out << YAML::Key << "installed_to" << YAML::Value << YAML::DoubleQuoted << f.installed_to;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    write_file_atomic(built_dir / manifest_name, std::string(out.c_str()) + "\n", 0644);
}

}  // namespace dkms
