// SPDX-License-Identifier: GPL-2.0-or-later
// The record of a build's last outcome: <v>/.dkms-run-builds/<K>/<A>/last-build.yaml (and make.log).
#include "dkms/tree/outcome.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "dkms/conf/dkms_conf.hpp"
#include "dkms/core/error.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/fs.hpp"

namespace dkms {

namespace {

constexpr const char* kRecord = "last-build.yaml";
constexpr const char* kLog = "make.log";
constexpr std::size_t kMaxRecord = 64 * 1024;
constexpr std::size_t kMaxErrorLines = 5;

// Text from make.log may hold any bytes; YAML holds Unicode, and yaml-cpp writes a byte that is not
// UTF-8 (or a noncharacter) as U+FFFD, so the record could not be read back as written. Such a byte
// becomes the four characters "\xNN" instead.
std::string utf8_clean(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        std::size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        bool ok = n != 9 && i + n < s.size();
        std::uint32_t cp = ok ? (n == 0 ? c : c & (0x3f >> n)) : 0;
        for (std::size_t k = 1; ok && k <= n; ++k) {
            unsigned char d = s[i + k];
            ok = (d & 0xc0) == 0x80;
            cp = (cp << 6) | (d & 0x3f);
        }
        static const std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= min_for[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
             !(cp >= 0xfdd0 && cp <= 0xfdef) && (cp & 0xfffe) != 0xfffe;
        // Control characters other than tab would make a one-line field span lines in a terminal.
        ok = ok && (cp >= 0x20 || cp == '\t') && cp != 0x7f;
        if (ok) {
            out.append(s, i, n + 1);
            i += n + 1;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
        }
    }
    return out;
}

void check_names(const std::string& m, const std::string& v, const std::string& k, const std::string& a) {
    for (auto* s : {&m, &v, &k, &a})
        if (std::string why = unsafe_name_reason(*s); !why.empty())
            throw Error(ExitCode::Error,
                        "cannot record a build outcome for '" + shown_name(*s) + "': the name " + why + ".");
}

// The record's directory, refused when any part of it below the version directory is a symbolic link.
fs::path checked_dir(const Tree& tree, const ModuleId& id, const Target& t) {
    fs::path rel = fs::path(outcomes_dir_name) / t.kver / t.arch;
    if (fs::path l = first_symlink(tree.version_dir(id), rel); !l.empty())
        throw Error(ExitCode::Error, "cannot record the build outcome of " + id.str() + ": " + l.string() +
                                         " is a symbolic link; remove it.");
    return tree.version_dir(id) / rel;
}

std::time_t parse_time(const std::string& s) {
    std::tm tm{};
    char z = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &z) != 7 ||
        z != 'Z')
        throw std::runtime_error("bad time '" + s + "'");
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

std::string emit(const BuildOutcome& o) {
    YAML::Emitter out;
    auto str = [&](const char* key, const std::string& value) {
        out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << utf8_clean(value);
    };
    out << YAML::BeginMap;
    out << YAML::Key << "schema" << YAML::Value << o.schema;
    str("module", o.module);
    str("version", o.version);
    str("kernel", o.kernel);
    str("arch", o.arch);
    str("result", o.result);
    out << YAML::Key << "exit_code" << YAML::Value << o.exit_code;
    str("step", o.step);
    str("cause", o.cause);
    str("summary", o.summary);
    str("fix", o.fix);
    out << YAML::Key << "first_error" << YAML::Value << YAML::BeginSeq;
    for (std::size_t i = 0; i < o.first_error.size() && i < kMaxErrorLines; ++i)
        out << YAML::DoubleQuoted << utf8_clean(o.first_error[i]);
    out << YAML::EndSeq;
    str("log", o.log);
    str("time", outcome_time_string(o.time));
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

BuildOutcome parse(const std::string& text) {
    YAML::Node n = YAML::Load(text);
    if (!n.IsMap()) throw std::runtime_error("not a mapping");
    BuildOutcome o;
    o.schema = n["schema"].as<int>();
    if (o.schema != 1) throw std::runtime_error("schema " + std::to_string(o.schema) + " is not 1 (a newer dkms-run?)");
    o.module = n["module"].as<std::string>();
    o.version = n["version"].as<std::string>();
    o.kernel = n["kernel"].as<std::string>();
    o.arch = n["arch"].as<std::string>();
    o.result = n["result"].as<std::string>();
    if (o.result != "built" && o.result != "failed") throw std::runtime_error("result '" + o.result + "'");
    o.exit_code = n["exit_code"].as<int>();
    o.step = n["step"] ? n["step"].as<std::string>() : "";
    o.cause = n["cause"] ? n["cause"].as<std::string>() : "";
    if (o.cause.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != std::string::npos)
        throw std::runtime_error("cause '" + o.cause + "'");
    o.summary = n["summary"] ? n["summary"].as<std::string>() : "";
    o.fix = n["fix"] ? n["fix"].as<std::string>() : "";
    for (const auto& l : n["first_error"]) {
        if (o.first_error.size() == kMaxErrorLines) throw std::runtime_error("more than 5 lines of first_error");
        o.first_error.push_back(l.as<std::string>());
    }
    o.log = n["log"] ? n["log"].as<std::string>() : "";
    if (!o.log.empty() && fs::path(o.log).is_relative()) throw std::runtime_error("log is not an absolute path");
    o.time = parse_time(n["time"].as<std::string>());
    return o;
}

}  // namespace

std::string outcome_time_string(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

fs::path outcome_dir(const Tree& tree, const ModuleId& id, const Target& t) {
    return tree.version_dir(id) / outcomes_dir_name / t.kver / t.arch;
}

void write_build_outcome(const Tree& tree, BuildOutcome o, const fs::path& make_log) {
    check_names(o.module, o.version, o.kernel, o.arch);
    if (o.result != "built" && o.result != "failed")
        throw Error(ExitCode::Error, "a build outcome is 'built' or 'failed', not '" + shown_name(o.result) + "'");
    ModuleId id{o.module, o.version};
    Target t{o.kernel, o.arch};
    if (!real_dir_exists(tree.version_dir(id)))
        throw Error(ExitCode::Error, "cannot record the build outcome of " + id.str() + ": " +
                                         tree.version_dir(id).string() + " is not a directory.");
    fs::path dir = checked_dir(tree, id, t);
    fs::create_directories(dir);
    std::error_code ec;
    if (o.result == "failed" && !make_log.empty() && path_exists(make_log)) {
        copy_file_atomic(make_log, dir / kLog, 0644);
        o.log = (dir / kLog).string();
    } else {
        fs::remove(dir / kLog, ec);
    }
    write_file_atomic(dir / kRecord, emit(o), 0644);
}

std::optional<BuildOutcome> read_build_outcome(const Tree& tree, const ModuleId& id, const Target& t,
                                               std::string* why) {
    fs::path p = outcome_dir(tree, id, t) / kRecord;
    if (!first_symlink(tree.version_dir(id), fs::path(outcomes_dir_name) / t.kver / t.arch / kRecord).empty()) {
        if (why) *why = p.string() + ": a symbolic link, not a record";
        return std::nullopt;
    }
    if (!path_exists(p)) return std::nullopt;
    try {
        std::string text = read_file(p);
        if (text.size() > kMaxRecord) throw std::runtime_error("larger than 64 KiB");
        BuildOutcome o = parse(text);
        if (o.module != id.name || o.version != id.version || o.kernel != t.kver || o.arch != t.arch)
            throw std::runtime_error("it describes " + o.module + "/" + o.version + " on " + o.kernel + " (" + o.arch +
                                     ")");
        return o;
    } catch (const Error& e) {
        if (why) *why = e.what();
    } catch (const std::exception& e) {  // YAML::Exception and the checks above
        if (why) *why = p.string() + ": unreadable build record: " + e.what();
    }
    return std::nullopt;
}

std::vector<BuildOutcome> build_outcomes(const Tree& tree, const ModuleId& id) {
    std::vector<BuildOutcome> out;
    fs::path base = tree.version_dir(id) / outcomes_dir_name;
    if (!real_dir_exists(base)) return out;
    std::error_code ec;
    for (fs::directory_iterator k(base, ec), end; !ec && k != end; k.increment(ec)) {
        std::string kver = k->path().filename().string();
        if (!unsafe_name_reason(kver).empty() || !real_dir_exists(k->path())) continue;
        std::error_code ec2;
        for (fs::directory_iterator a(k->path(), ec2); !ec2 && a != end; a.increment(ec2)) {
            std::string arch = a->path().filename().string();
            if (!unsafe_name_reason(arch).empty() || !real_dir_exists(a->path())) continue;
            if (auto o = read_build_outcome(tree, id, {kver, arch})) out.push_back(*o);
        }
    }
    std::sort(out.begin(), out.end(), [](const BuildOutcome& a, const BuildOutcome& b) {
        if (a.kernel != b.kernel) return natural_less(a.kernel, b.kernel);
        return a.arch < b.arch;
    });
    return out;
}

void remove_build_outcome(const Tree& tree, const ModuleId& id, const Target& t) noexcept {
    try {
        if (!unsafe_name_reason(t.kver).empty() || !unsafe_name_reason(t.arch).empty()) return;
        fs::path rel = fs::path(outcomes_dir_name) / t.kver / t.arch;
        if (!first_symlink(tree.version_dir(id), rel).empty()) return;
        fs::path dir = tree.version_dir(id) / rel;
        if (!real_dir_exists(dir)) return;
        remove_tree(dir);
        remove_empty_parents(dir.parent_path(), tree.version_dir(id));
    } catch (...) {
    }
}

}  // namespace dkms
