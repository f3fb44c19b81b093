// SPDX-License-Identifier: GPL-2.0-or-later
// Module compression: which one the kernel uses, running the compressor, reading either form back.
#include <sstream>

#include "dkms/kernel/module_files.hpp"
#include "dkms/archive/archive.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/process.hpp"

namespace dkms {

namespace {

bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    return w;
}

}  // namespace

const std::vector<std::string>& module_suffixes() {
    static const std::vector<std::string> s{".ko", ".ko.gz", ".ko.xz", ".ko.zst"};
    return s;
}

std::string kernel_module_compression(const fs::path& kdir) {
    bool gz = false, xz = false, zst = false;
    std::error_code ec;
    // Symlinks (build/, source/) are not followed, as with find(1).
    for (fs::recursive_directory_iterator it(kdir, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (ends_with(n, ".ko.zst")) zst = true;
        else if (ends_with(n, ".ko.xz")) xz = true;
        else if (ends_with(n, ".ko.gz")) gz = true;
        if (zst) break;  // zst wins over the others whatever else is found
    }
    return zst ? ".zst" : xz ? ".xz" : gz ? ".gz" : "";
}

fs::path compress_module(const Context& ctx, const fs::path& ko, const std::string& suffix) {
    if (suffix.empty()) return ko;
    const Settings& s = ctx.settings;
    std::string tool;
    std::vector<std::string> opts;
    if (suffix == ".gz") tool = "gzip", opts = words(s.compress_gzip_opts);
    else if (suffix == ".xz") tool = "xz", opts = words(s.compress_xz_opts);
    else if (suffix == ".zst") tool = "zstd", opts = words(s.compress_zstd_opts);
    else return ko;
    fs::path out = ko.string() + suffix;
    std::error_code ec;
    fs::remove(out, ec);
    std::string why;
    if (find_program(tool).empty()) {
        why = tool + " is not installed";
    } else {
        ProcessSpec p;
        p.argv = {tool};
        p.argv.insert(p.argv.end(), opts.begin(), opts.end());
        p.argv.insert(p.argv.end(), {"-f", ko.string()});
        p.out = ProcessSpec::Out::Capture;
        p.err_to_out = true;
        ProcessResult r = run_process(ctx, p);
        if (r.ok() && fs::is_regular_file(out) && fs::file_size(out, ec) > 0) {
            fs::remove(ko, ec);  // gzip and xz remove it themselves; zstd only with --rm
            return out;
        }
        why = tool + " exited with status " + std::to_string(r.status);
        std::string first = r.out.substr(0, r.out.find('\n'));
        if (!first.empty()) why += ": " + first;
    }
    fs::remove(out, ec);
    ctx.report.warning("Compressing " + ko.string() + " failed (" + why + "); keeping it uncompressed.");
    if (!fs::exists(ko))
        throw Error(ExitCode::ModuleMissing, "The compressor removed " + ko.string() + " without producing " +
                                                 out.string() + "; check compress_*_opts in framework.conf.");
    return ko;
}

fs::path find_module_file(const fs::path& dir, const std::string& name) {
    for (auto& suf : module_suffixes()) {
        fs::path p = dir / (name + suf);
        if (path_exists(p)) return p;
    }
    return {};
}

std::string module_base_name(const std::string& n) {
    for (auto& suf : module_suffixes())
        if (ends_with(n, suf) && n.size() > suf.size()) return n.substr(0, n.size() - suf.size());
    return "";
}

std::string read_module_image(const fs::path& p) {
    const std::string n = p.filename().string();
    std::string_view magic, kind;
    if (ends_with(n, ".ko.gz")) magic = "\x1f\x8b", kind = "gzip";
    else if (ends_with(n, ".ko.xz")) magic = std::string_view("\xfd" "7zXZ\0", 6), kind = "xz";
    else if (ends_with(n, ".ko.zst")) magic = "\x28\xb5\x2f\xfd", kind = "zstd";
    std::string bytes = read_file(p);
    if (kind.empty()) return bytes;
    // In process (no gzip, xz or zstd to run), and only what the name says it is.
    if (bytes.compare(0, magic.size(), magic) != 0)
        throw Error(ExitCode::Error, "cannot decompress " + p.string() + " (not " + std::string(kind) + " data)");
    try {
        return archive::decompress(bytes);
    } catch (const archive::ArchiveError& e) {
        throw Error(ExitCode::Error, "cannot decompress " + p.string() + " (" + e.reason() + ")");
    }
}

}  // namespace dkms
