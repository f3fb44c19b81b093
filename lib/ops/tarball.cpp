// SPDX-License-Identifier: GPL-2.0-or-later
// mktarball and ldtarball over the strict in-memory archive reader and writer.
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/tarball.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "dkms/sys/fs.hpp"

namespace dkms {

namespace {

using archive::Member;
using archive::MemberType;

constexpr const char* main_tree = "dkms_main_tree";
constexpr const char* source_tree_dir = "dkms_source_tree";
constexpr const char* binaries_dir = "dkms_binaries_only";

// $SOURCE_DATE_EPOCH if it is a plain number, else `fallback`.
std::int64_t archive_time(std::int64_t fallback) {
    const char* e = getenv("SOURCE_DATE_EPOCH");
    if (!e || !*e) return fallback;
    char* end = nullptr;
    long long v = std::strtoll(e, &end, 10);
    if (*end || v < 0) return fallback;
    return v;
}

// The manifest of a built dir with every installed_to cleared (it describes another host).
std::string portable_manifest(const fs::path& built_dir, const fs::path& scratch) {
    Manifest man;
    if (!read_manifest(built_dir, man)) return {};
    for (auto& f : man.files) f.installed_to.clear();
    fs::create_directories(scratch);
    write_manifest(scratch, man);
    return read_file(scratch / manifest_name);
}

Error refused(const fs::path& file, const std::string& why) {
    return Error(ExitCode::ModuleMissing, {file.string() + " is not a safe DKMS archive: " + why + ".",
                                           "Nothing was written. Rebuild the archive with 'dkms-run mktarball' "
                                           "(or 'dkms mktarball') from a trusted tree."});
}

// Leftovers of ldtarball runs that were killed (<dkms_tree>/.tmp_ldtarball_XXXXXX).
template <typename F>
void each_stale_unpack(const fs::path& tree, F&& f) {
    std::error_code ec;
    std::vector<fs::path> stale;
    for (fs::directory_iterator it(tree, ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        if (n.rfind(".tmp_ldtarball_", 0) == 0 && n.size() == 21 && real_dir_exists(it->path())) stale.push_back(it->path());
    }
    for (auto& p : stale) f(p);
}

// What differs between two source trees ("missing: x", "differs: y", "extra: z"), sorted; empty when
// they hold the same files (same bytes) and links.
std::vector<std::string> tree_differences(const fs::path& want, const fs::path& have) {
    auto list = [](const fs::path& d) {
        std::map<std::string, fs::path> out;
        std::error_code ec;
        for (fs::recursive_directory_iterator it(d, fs::directory_options::none, ec), end; !ec && it != end;
             it.increment(ec))
            if (!it->is_directory(ec) || it->is_symlink(ec)) out[it->path().lexically_relative(d).string()] = it->path();
        return out;
    };
    auto w = list(want), h = list(have);
    std::vector<std::string> diffs;
    for (auto& [rel, p] : w) {
        auto it = h.find(rel);
        if (it == h.end()) diffs.push_back("missing here: " + rel);
        else if (link_exists(p) || link_exists(it->second)) {
            std::error_code ec;
            if (fs::read_symlink(p, ec) != fs::read_symlink(it->second, ec)) diffs.push_back("differs: " + rel);
        } else if (!same_bytes(p, it->second)) diffs.push_back("differs: " + rel);
    }
    for (auto& [rel, p] : h)
        if (!w.count(rel)) diffs.push_back("not in the archive: " + rel);
    std::sort(diffs.begin(), diffs.end());
    return diffs;
}

// installed_to is this host's business: keep what an existing instance records (--force over an
// installed module), drop what the build host recorded.
void keep_local_installed_to(const fs::path& staged, const fs::path& dest) {
    Manifest man, old;
    if (!read_manifest(staged, man)) return;
    bool have_old = false;
    try {
        have_old = path_exists(dest) && read_manifest(dest, old);
    } catch (const Error&) {
    }
    for (auto& f : man.files) {
        f.installed_to.clear();
        if (have_old)
            for (auto& o : old.files)
                if (o.name == f.name) f.installed_to = o.installed_to;
    }
    write_manifest(staged, man);
}

std::vector<std::string> components(const std::string& p) {
    std::vector<std::string> v;
    for (auto& c : fs::path(p)) v.push_back(c.string());
    return v;
}

}  // namespace

fs::path make_tarball(Ops& ops, Context& ctx, const ModuleId& id, const std::vector<Target>& targets,
                      const MkTarballOptions& opt) {
    if (opt.binaries_only && opt.source_only)
        throw Error(ExitCode::BadConf, {"You have specified both --binaries-only and --source-only.", "You cannot do this."});
    const Tree& tree = ops.tree();
    if (!tree.is_added(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
    fs::path conf = tree.conf_path(id);
    Target t0 = targets.empty() ? Target{running_kernel(), machine_arch()} : targets.front();
    load_module_config(ctx, conf, ConfTarget{id.name, id.version, t0}, ConfMode::Lenient);

    TempDir scratch(ctx.settings.tmp_location, "dkms-run.mktarball.");
    std::vector<Member> members;
    members.push_back({main_tree, MemberType::Directory, 0755, {}, {}, 0});
    std::string klist;
    if (!opt.source_only) {
        for (auto& t : targets) {
            fs::path b = tree.built_dir(id, t);
            if (!dir_exists(b))
                throw Error(ExitCode::InstallFailed, {"No modules built for " + t.kver + " (" + t.arch + ").",
                                                      "Modules must already be in the built state before using mktarball."});
            ctx.report.out("Marking modules for " + t.kver + " (" + t.arch + ") for archiving...");
            klist += (klist.empty() ? "kernel" : "-kernel") + t.kver + "-" + t.arch;
            std::string prefix = std::string(main_tree) + "/" + t.kver + "/" + t.arch;
            members.push_back({std::string(main_tree) + "/" + t.kver, MemberType::Directory, 0755, {}, {}, 0});
            archive::collect_tree(b, prefix, members);
            std::string man = portable_manifest(b, scratch.path() / t.kver / t.arch);
            for (auto& m : members)
                if (m.path == prefix + "/" + manifest_name) m.data = man;
        }
    }
    if (opt.binaries_only) {
        ctx.report.out("");
        ctx.report.out("Creating tarball structure to specifically accommodate binaries.");
        struct stat st{};
        std::int64_t t = stat(conf.c_str(), &st) == 0 ? st.st_mtime : 0;
        members.push_back({binaries_dir, MemberType::Directory, 0755, {}, {}, t});
        members.push_back({std::string(binaries_dir) + "/PACKAGE_NAME", MemberType::File, 0644, id.name + "\n", {}, t});
        members.push_back({std::string(binaries_dir) + "/PACKAGE_VERSION", MemberType::File, 0644, id.version + "\n", {}, t});
        members.push_back({std::string(binaries_dir) + "/dkms.conf", MemberType::File, 0644, read_file(conf), {}, t});
    } else {
        ctx.report.out("");
        ctx.report.out("Marking " + tree.source_link(id).string() + " for archiving...");
        archive::collect_tree(fs::canonical(tree.source_link(id)), source_tree_dir, members);
    }
    if (opt.source_only) klist = "source-only";
    if (klist.size() + 1 > 200) klist = "manykernels";

    std::string name = id.name + "-" + id.version + "-" + klist + ".dkms.tar.gz";
    std::string dest = (tree.version_dir(id) / "tarball").string() + "/";
    if (opt.archive) {
        const std::string& a = *opt.archive;
        auto slash = a.rfind('/');
        name = slash == std::string::npos ? a : a.substr(slash + 1);
        if (slash != std::string::npos) dest = a.substr(0, slash);
        if (name.empty())
            throw Error(ExitCode::Usage, {"--archive " + a + " names a directory.", "Give a file name, e.g. --archive " + a + "foo.dkms.tar.gz"});
        if (dest.empty()) dest = "/";
    }
    ctx.report.out("");
    ctx.report.out("Tarball location: " + dest + "/" + name);
    std::error_code ec;
    fs::create_directories(dest, ec);
    if (!dir_exists(dest) || access(dest.c_str(), W_OK) != 0)
        throw Error(ExitCode::NoDkmsConf, "Missing write permissions for " + dest + ".");

    std::int64_t mtime = archive_time(archive::newest_mtime(members));
    fs::path out = fs::path(dest) / name;
    try {
        std::string bytes = archive::compress(archive::write_tar(std::move(members), mtime),
                                              archive::compression_for_name(name));
        write_file_atomic(out, bytes, 0644);
    } catch (const Error& e) {
        throw Error(ExitCode::InstallFailed, {"Failed to make tarball.", e.what()});
    }
    return out;
}

namespace {

// An archive read and checked in memory: its members, whether it has dkms's layout, and the built
// kernels it carries (K -> arches).
struct ParsedTarball {
    std::vector<Member> members;
    bool dkms_layout = false;
    std::map<std::string, std::set<std::string>> kernels;
};

ParsedTarball parse_tarball(const fs::path& file, const archive::Limits& lim) {
    struct stat st{};
    if (stat(file.c_str(), &st) != 0) throw Error(ExitCode::Usage, file.string() + " does not exist.");
    if (!S_ISREG(st.st_mode)) throw Error(ExitCode::Usage, file.string() + " is not a regular file.");
    if (std::uint64_t(st.st_size) > lim.max_bytes) throw refused(file, "larger than the limit of " + std::to_string(lim.max_bytes) + " bytes");
    ParsedTarball t;
    try {
        t.members = archive::read_archive(read_file(file), lim);
    } catch (const archive::ArchiveError& e) {
        throw refused(file, e.what());
    }
    for (auto& m : t.members) {
        auto c = components(m.path);
        if (c[0] == main_tree || c[0] == source_tree_dir || c[0] == binaries_dir) t.dkms_layout = true;
        if (c[0] != main_tree || c.size() < 2) continue;
        if (c.size() <= 3 && m.type != MemberType::Directory)
            throw refused(file, "member '" + m.path + "': expected a directory dkms_main_tree/<kernel>/<arch>");
        for (std::size_t i = 1; i < std::min<std::size_t>(c.size(), 3); ++i) {
            std::string why = unsafe_name_reason(c[i]);
            if (!why.empty()) throw refused(file, "member '" + m.path + "': the " + (i == 1 ? "kernel" : "arch") + " name " + why);
        }
        if (c.size() >= 3) t.kernels[c[1]].insert(c[2]);
    }
    return t;
}

// A plain source tarball: the shallowest dkms.conf names the source directory.
ModuleId load_plain_source(Ops& ops, const ParsedTarball& t, const fs::path& root, const Target& conf_target) {
    std::string best;
    for (auto& m : t.members)
        if (m.type == MemberType::File && fs::path(m.path).filename() == "dkms.conf" &&
            (best.empty() || components(m.path).size() < components(best).size()))
            best = m.path;
    if (best.empty())
        throw Error(ExitCode::NotFound, "Tarball does not appear to be a correctly formed DKMS archive. No dkms.conf found within it.");
    ModuleId id = ops.add_path(root / fs::path(best).parent_path(), conf_target);
    if (!ops.tree().is_added(id)) ops.add(id, conf_target);
    return id;
}

// The dkms.conf of dkms_source_tree, else of dkms_binaries_only: where it is, and the module it names.
std::pair<std::string, ModuleId> archive_module(Context& ctx, const fs::path& file, const fs::path& root,
                                                const Target& conf_target) {
    for (const char* cand : {source_tree_dir, binaries_dir}) {
        fs::path conf = root / cand / "dkms.conf";
        struct stat cs{};
        if (lstat(conf.c_str(), &cs) != 0 || !S_ISREG(cs.st_mode)) continue;
        try {
            ModuleConfig c = load_module_config(ctx, conf, ConfTarget{"", "", conf_target}, ConfMode::Strict);
            if (c.package_name.empty() || c.package_version.empty()) throw Error(ExitCode::BadConf, "no PACKAGE_NAME or PACKAGE_VERSION");
            return {cand, {c.package_name, c.package_version}};
        } catch (const Error&) {
            ctx.report.err("");
            ctx.report.err("Malformed dkms.conf, refusing to load.");
        }
    }
    throw Error(ExitCode::ModuleMissing, {"No valid dkms.conf in dkms_source_tree or dkms_binaries_only.",
                                          file.string() + " is not a valid DKMS tarball."});
}

// The source of an earlier load (or of `remove --all`, which keeps /usr/src): loaded again when it is
// the archive's (true: reuse it), refused without --force when it differs, so that nothing local is lost.
bool reuse_existing_source(const ModuleId& id, const fs::path& archived, const fs::path& src_dir) {
    std::vector<std::string> diffs = tree_differences(archived, src_dir);
    if (diffs.empty()) return true;
    std::vector<std::string> lines{"DKMS tree already contains: " + id.str(),
                                   "The source directory " + src_dir.string() + " differs from the archive's:"};
    for (size_t i = 0; i < diffs.size() && i < 5; ++i) lines.push_back("  " + diffs[i]);
    if (diffs.size() > 5) lines.push_back("  ... and " + std::to_string(diffs.size() - 5) + " more");
    lines.push_back("Use --force to replace it with the archive's.");
    throw Error(ExitCode::NotFound, lines);
}

// Built modules must match the checksums their manifest records.
void verify_built_kernels(const fs::path& file, const fs::path& root, const ParsedTarball& t) {
    for (auto& [k, arches] : t.kernels)
        for (auto& a : arches) {
            fs::path b = root / main_tree / k / a;
            if (!dir_exists(b / "module")) throw refused(file, std::string(main_tree) + "/" + k + "/" + a + " has no module/ directory");
            Manifest man;
            bool have = false;
            try {
                have = read_manifest(b, man);
            } catch (const Error& e) {
                throw refused(file, e.what());
            }
            if (!have) continue;
            for (auto& f : man.files) {
                fs::path p = b / "module" / f.name;
                struct stat fs_{};
                if (lstat(p.c_str(), &fs_) != 0 || !S_ISREG(fs_.st_mode) || sha256_file(p) != f.sha256)
                    throw refused(file, std::string(main_tree) + "/" + k + "/" + a + "/module/" + f.name +
                                            " does not match the checksum in its manifest");
            }
        }
}

// The archive's built kernels into version directory `vdir` (the final one, or a new one being
// assembled: `fresh`), each staged and renamed into place.
void load_kernels(Context& ctx, const Tree& tree, const ModuleId& id, const ParsedTarball& t, const fs::path& root,
                  const fs::path& vdir, bool fresh) {
    std::error_code ec;
    for (auto& [k, arches] : t.kernels)
        for (auto& a : arches) {
            fs::path dest = tree.built_dir(id, {k, a});
            if (!fresh && dir_exists(dest) && !ctx.settings.force) {
                ctx.report.warning(dest.string() + " already exists. Skipping...");
                continue;
            }
            ctx.report.out("Loading " + dest.string() + "...");
            fs::path into = vdir / k / a;
            fs::create_directories(into.parent_path(), ec);
            TempDir stage(into.parent_path(), ".tmp_" + a + "_");
            fs::path staged = stage.path() / "new";
            copy_tree(root / main_tree / k / a, staged);
            keep_local_installed_to(staged, dest);
            if (path_exists(into) && rename(into.c_str(), (stage.path() / "old").c_str()) != 0)
                throw SystemError("cannot replace " + dest.string(), errno);
            if (rename(staged.c_str(), into.c_str()) != 0) throw SystemError("cannot create " + dest.string(), errno);
        }
}

// Binaries only, no source here: a real source/ directory holding the archive's dkms.conf, assembled
// with the kernels under a temporary name and renamed into place.
void load_binaries_only(Context& ctx, const Tree& tree, const ModuleId& id, const ParsedTarball& t, const fs::path& root) {
    fs::path srclink = tree.source_link(id);
    ctx.report.out("Creating " + srclink.string());
    ctx.report.out("Copying dkms.conf to " + srclink.string() + " ...");
    std::error_code ec;
    fs::create_directories(tree.module_dir(id.name), ec);
    TempDir staged(tree.module_dir(id.name), ".tmp_add_");
    fs::create_directories(staged.path() / "source");
    copy_file_atomic(root / binaries_dir / "dkms.conf", staged.path() / "source/dkms.conf", 0644);
    load_kernels(ctx, tree, id, t, root, staged.path(), true);
    chmod(staged.path().c_str(), 0755);
    fs::path vdir = tree.version_dir(id);
    if (rename(staged.path().c_str(), vdir.c_str()) != 0) throw SystemError("cannot create " + vdir.string(), errno);
    staged.release();
}

}  // namespace

LoadedTarball load_tarball(Ops& ops, Context& ctx, const fs::path& file, const archive::Limits& lim) {
    const Settings& s = ctx.settings;
    const Tree& tree = ops.tree();
    // 1. Parse and check everything in memory.
    ParsedTarball t = parse_tarball(file, lim);
    Target conf_target{running_kernel(), machine_arch()};
    if (!t.kernels.empty()) conf_target = {t.kernels.begin()->first, *t.kernels.begin()->second.begin()};

    // Unpacked inside the dkms tree (never in a shared /tmp): what a killed run leaves there is swept
    // by the next ldtarball.
    std::error_code ec;
    fs::create_directories(s.dkms_tree, ec);
    each_stale_unpack(s.dkms_tree, [](const fs::path& p) { remove_tree(p); });
    TempDir tmp(s.dkms_tree, ".tmp_ldtarball_");
    fs::path root = tmp.path() / "x";
    if (mkdir(root.c_str(), 0700) != 0) throw SystemError("cannot create " + root.string(), errno);
    archive::extract(t.members, root);
    if (!t.dkms_layout) return {load_plain_source(ops, t, root, conf_target), false};

    // (not a structured binding: clang 14 does not let a lambda below capture one)
    const auto found = archive_module(ctx, file, root, conf_target);
    const std::string& loc = found.first;
    const ModuleId& id = found.second;
    check_identifier("module name", id.name);
    check_identifier("module version", id.version);
    ops.sweep_once(id.name);  // what an earlier, interrupted load left
    if (tree.is_added(id) && !s.force)
        throw Error(ExitCode::BadConf, {id.str() + " is already added!", "Aborting."});
    fs::path src_dir = tree.source_dir(id);
    bool reuse_source = loc == source_tree_dir && dir_exists(src_dir) && !s.force &&
                        reuse_existing_source(id, root / source_tree_dir, src_dir);
    verify_built_kernels(file, root, t);

    // 2. Write: the source, then the version with its kernels. A new version is assembled whole under
    // a temporary name and renamed into place last (a killed run leaves nothing half-loaded); kernels
    // loaded into an existing version are each renamed into place.
    ctx.report.out("");
    ctx.report.out("Loading tarball for " + id.str());
    bool binaries = loc == binaries_dir;
    if (!binaries && !reuse_source) ops.add_path(root / source_tree_dir, conf_target);
    fs::path vdir = tree.version_dir(id);
    if (path_exists(vdir)) {
        load_kernels(ctx, tree, id, t, root, vdir, false);
        if (!tree.is_added(id) && dir_exists(src_dir)) ops.add(id, conf_target);
    } else if (!binaries || dir_exists(src_dir)) {
        ops.add(id, conf_target, [&](const fs::path& staged) { load_kernels(ctx, tree, id, t, root, staged, true); });
    } else {
        load_binaries_only(ctx, tree, id, t, root);
    }
    return {id, binaries && !dir_exists(src_dir)};
}

}  // namespace dkms
