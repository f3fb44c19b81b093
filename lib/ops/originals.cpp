// SPDX-License-Identifier: GPL-2.0-or-later
// Whose is a file of the install tree (the kernel's, or a dkms module's), and the kernel's own modules
// that a dkms module replaces: archived on install where dkms 3.4 does it, put back when no version of
// the module is installed on that kernel any more.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "dkms/conf/framework.hpp"
#include "dkms/kernel/module_files.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/ops/originals.hpp"

namespace dkms {

namespace {

const char* const origin_ext = ".origin";

// Move `src` to `dst`: rename when on one filesystem, else an atomic copy then unlink.
void move_file(const fs::path& src, const fs::path& dst) {
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (rename(src.c_str(), dst.c_str()) == 0) return;
    if (errno != EXDEV) throw SystemError("cannot move " + src.string() + " to " + dst.string(), errno);
    struct stat st{};
    if (stat(src.c_str(), &st) != 0) throw SystemError("cannot read " + src.string(), errno);
    copy_file_atomic(src, dst, st.st_mode & 07777);
    fs::remove(src, ec);
}

// Archive one file into `dir`; the .origin is written first, so the record never points nowhere
// for long, and the original leaves the install tree last.
void archive_one(const fs::path& file, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw SystemError("cannot create " + dir.string(), ec.value());
    fs::path dst = dir / file.filename();
    write_file_atomic(dir / (file.filename().string() + origin_ext), file.string() + "\n", 0644);
    move_file(file, dst);
}

// Every built instance of the tree for t's kernel/arch, with its manifest when it has one.
template <typename F>
void for_each_instance(const Tree& tree, const Target& t, F&& f) {
    for (auto& m : tree.modules())
        for (auto& v : tree.versions(m)) {
            ModuleId id{m, v};
            if (!tree.is_built(id, t)) continue;
            Manifest man;
            bool has = false;
            try {
                has = read_manifest(tree.built_dir(id, t), man);
            } catch (const Error&) {
            }
            if (f(id, has ? &man : nullptr)) return;
        }
}

bool same_path(const fs::path& a, const fs::path& b) { return a.lexically_normal() == b.lexically_normal(); }

}  // namespace

std::optional<ModuleId> installed_by(const Tree& tree, const fs::path& p, const Target& t) {
    if (!fs::is_regular_file(p)) return std::nullopt;
    std::optional<std::string> sum;
    auto sha = [&]() -> const std::string& {
        if (!sum) {
            try {
                sum = sha256_file(p);
            } catch (const Error&) {
                sum = "";
            }
        }
        return *sum;
    };
    std::optional<ModuleId> owner;
    for_each_instance(tree, t, [&](const ModuleId& id, const Manifest* man) {
        if (man) {
            for (auto& f : man->files)
                if (f.name == p.filename().string() && same_path(f.installed_to, p) && f.sha256 == sha()) {
                    owner = id;
                    return true;
                }
            return false;
        }
        // A tree written by dkms: an installed build with a module of this name and these bytes.
        fs::path built = tree.built_dir(id, t) / "module" / p.filename();
        if (tree.is_installed(id, t) && same_bytes(built, p)) {
            owner = id;
            return true;
        }
        return false;
    });
    return owner;
}

std::vector<Claim> claims_on(const Tree& tree, const fs::path& p, const Target& t) {
    std::vector<Claim> out;
    for_each_instance(tree, t, [&](const ModuleId& id, const Manifest* man) {
        if (man && tree.is_installed(id, t))
            for (auto& f : man->files)
                if (same_path(f.installed_to, p)) out.push_back({id, f});
        return false;
    });
    return out;
}

fs::path original_module_dir(const Paths& s, const std::string& m, const Target& t) {
    return s.dkms_tree / m / "original_module" / t.kver / t.arch;
}

std::vector<fs::path> find_kernel_modules(const fs::path& kdir, const std::string& name) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(kdir, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (module_base_name(it->path().filename().string()) == name) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void archive_originals(const Context& ctx, const Tree& tree, const std::string& m, const Target& t,
                       const ModuleRecord& rec, bool active) {
    const Settings& s = ctx.settings;
    // Debian's dkms leaves the kernel's files (dpkg's) in place: updates/dkms wins by depmod's order.
    if (debian_family(s)) return;
    Reporter& r = ctx.report;
    fs::path kdir = s.install_tree / t.kver;
    fs::path archive = original_module_dir(s, m, t);
    const std::string& name = rec.dest_name;
    // Only the kernel's own modules: what a dkms module installed is never taken for one.
    std::vector<fs::path> found;
    for (auto& f : find_kernel_modules(kdir, name))
        if (!installed_by(tree, f, t)) found.push_back(f);
    if (active) {
        if (!find_module_file(archive, name).empty()) r.out("An original module was already stored during a previous install");
    } else {
        std::vector<fs::path> prefs{find_module_file(kdir / "extra", name), find_module_file(kdir / "updates", name),
                                    find_module_file(kdir / fs::path(rec.dest_location).relative_path(), name)};
        if (found.size() == 1) prefs.push_back(found.front());
        bool archived = false;
        for (auto& p : prefs) {
            if (p.empty() || !fs::is_regular_file(p) || std::find(found.begin(), found.end(), p) == found.end()) continue;
            r.out("Found pre-existing " + p.string() + ", archiving for uninstallation");
            archive_one(p, archive);
            archived = true;
            break;
        }
        if (!archived && found.size() > 1) {
            r.out("Multiple original modules exist, so none will be put back in place during a later uninstall");
            r.out("All instances will be stored for reference purposes in " + (archive / "collisions").string() + "/");
        }
    }
    if (found.size() > 1) {
        r.out("Multiple same named modules! " + std::to_string(found.size()) + " named " + name + ".ko in " +
              kdir.string() + "/");
        for (auto& dup : found) {
            if (!path_exists(dup)) continue;  // the preferred one, archived above
            fs::path rel = dup.parent_path().lexically_relative(kdir);
            archive_one(dup, archive / "collisions" / rel);
        }
    }
}

int settle_originals(const Context& ctx, const Tree& tree, const std::string& m, const Target& t, bool was_active) {
    const Settings& s = ctx.settings;
    Reporter& r = ctx.report;
    fs::path kdir = s.install_tree / t.kver;
    fs::path archive = original_module_dir(s, m, t);
    if (!real_dir_exists(archive) || !tree.installed_version(m, t).empty()) return 0;
    std::vector<fs::path> origins;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(archive, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (n.size() > 7 && n.compare(n.size() - 7, 7, origin_ext) == 0 && n[0] != '.' && it->is_regular_file(ec))
            origins.push_back(it->path());
    }
    std::sort(origins.begin(), origins.end());
    int restored = 0;
    bool kept = false;
    for (auto& o : origins) {
        fs::path saved = o.string().substr(0, o.string().size() - 7);
        if (!fs::is_regular_file(saved)) {
            fs::remove(o, ec);  // its module was put back by a run killed before it got here
            continue;
        }
        std::string loc = read_file(o);
        loc = loc.substr(0, loc.find('\n'));
        std::string why = loc.empty() ? "is empty" : unsafe_path_below(kdir, loc);
        if (why.empty() && fs::path(loc).filename() != saved.filename()) why = "is not named " + saved.filename().string();
        if (!why.empty()) {
            r.warning("Bad original location '" + loc + "' in " + o.string() + ": it " + why + ".");
            kept = true;
            continue;
        }
        if (path_exists(loc)) {
            if (same_bytes(saved, loc)) {
                // Put back by an earlier run killed before it could drop the archived copy.
            } else if (auto owner = installed_by(tree, loc, t)) {
                // Another module's file is there now: the kernel's is put back once that one is gone.
                kept = true;
                continue;
            } else {
                r.warning("Not restoring the archived " + loc + ": the kernel's package has installed another one "
                          "there since; the archived copy is dropped.");
            }
            fs::remove(saved, ec);
            fs::remove(o, ec);
            continue;
        }
        r.out("Restoring archived original module " + loc);
        move_file(saved, loc);
        fs::remove(o, ec);
        ++restored;
    }
    if (kept) {
        if (was_active) r.warning("Keeping " + archive.string() + ": some archived modules could not be restored.");
        return restored;
    }
    // dkms deletes the archive's directories once they are empty, and says it removes original
    // modules from the tree only when some are left that it did not put back (an old dkms's copies
    // without an .origin file): after a restore of every one it says nothing.
    bool leftover = false;
    for (fs::recursive_directory_iterator it(archive, fs::directory_options::none, ec), end;
         !ec && it != end && !leftover; it.increment(ec))
        leftover = it->is_regular_file(ec);
    ec.clear();
    if (was_active && leftover)
        r.out("Removing original module(s) from DKMS tree for kernel " + t.kver + " (" + t.arch + ")");
    remove_tree(archive);
    remove_empty_parents(archive.parent_path(), s.dkms_tree / m);
    return restored;
}

void settle_all_originals(const Context& ctx, const Tree& tree, const Target& t) {
    for (auto& m : tree.modules())
        if (real_dir_exists(original_module_dir(ctx.settings, m, t))) settle_originals(ctx, tree, m, t, false);
}

}  // namespace dkms
