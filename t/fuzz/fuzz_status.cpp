// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the status reader (Ops::status, Tree predicates, manifests) over a dkms tree
// built from the input in a private scratch root.
//
// Input: a tiny description of the tree, one entry per line (paths relative to the root,
// at most 64 entries, no "..", no absolute paths):
//
//   d PATH            a directory (parents are created as needed)
//   f PATH            a file; its content is the lines that follow, up to a line "."
//   l PATH TARGET     a symlink; a TARGET starting with "@/" points below the root
//   q M V K A         a status filter ("-" for any field)
//
// In file contents "@/" also stands for the root (so manifests can name installed files).
// Entries are written only through real directories, never through a symlink made before.
// The settings: dkms tree <root>/dkms, source tree <root>/src, install tree <root>/modules,
// /etc/os-release from <root>/etc/os-release. Inputs whose symlinks or manifests lead out of
// the root are ignored, so nothing outside it is ever read.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "dkms/core/error.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/tree/tree.hpp"
#include "fuzz_support.hpp"

using namespace dkms;
namespace fz = dkms::fuzz;

namespace {

struct Link {
    fs::path path, target;
};

bool safe_relative(std::string_view p) {
    if (p.empty() || p.size() > 256 || p.front() == '/') return false;
    for (auto& c : fs::path(p))
        if (c == "..") return false;
    return p.find('\0') == std::string_view::npos;
}

// Are the existing parents of root/rel real directories? Then writing rel stays below the root
// (a symlink made by an earlier entry could otherwise lead a write anywhere).
bool real_parents(const fs::path& root, const fs::path& rel) {
    fs::path cur = root;
    for (auto& c : rel.parent_path()) {
        cur /= c;
        struct stat st{};
        if (lstat(cur.c_str(), &st) != 0) return errno == ENOENT;  // from here on everything is new
        if (!S_ISDIR(st.st_mode)) return false;
    }
    return true;
}

std::string expand_root(std::string_view s, const fs::path& root) {
    std::string o;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '@' && i + 1 < s.size() && s[i + 1] == '/') {
            o += root.string();
            continue;
        }
        o += s[i];
    }
    return o;
}

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> w;
    std::istringstream in{std::string(line)};
    for (std::string x; in >> x;) w.push_back(x);
    return w;
}

/// Build the described tree. Returns false for an input we do not use.
bool build(std::string_view text, const fs::path& root, std::vector<StatusFilter>& filters,
           std::vector<Link>& links) {
    int entries = 0;
    size_t pos = 0;
    auto next_line = [&](std::string_view& line) {
        if (pos >= text.size()) return false;
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string_view::npos ? text.size() : nl;
        line = text.substr(pos, end - pos);
        pos = end + 1;
        return true;
    };
    std::string_view line;
    while (next_line(line)) {
        if (line.empty()) continue;
        if (++entries > 64) return false;
        std::vector<std::string> w = words(line);
        if (w.empty()) continue;
        const std::string& op = w[0];
        if (op == "q") {
            StatusFilter f;
            std::string* fields[] = {&f.module, &f.version, &f.kver, &f.arch};
            for (size_t i = 0; i < 4 && i + 1 < w.size(); ++i) *fields[i] = w[i + 1] == "-" ? "" : w[i + 1];
            filters.push_back(f);
            continue;
        }
        if (w.size() < 2 || !safe_relative(w[1]) || !real_parents(root, w[1])) return false;
        fs::path p = root / w[1];
        std::error_code ec;
        if (op == "d") {
            fs::create_directories(p, ec);
        } else if (op == "f") {
            std::string content;
            std::string_view l;
            while (next_line(l) && l != ".") {
                content.append(l);
                content += '\n';
                if (content.size() > 4096) return false;
            }
            fs::create_directories(p.parent_path(), ec);
            try {
                fz::write_bytes(p, expand_root(content, root));
            } catch (const std::exception&) {
                // e.g. a path below a file: the entry just does not exist
            }
        } else if (op == "l" && w.size() >= 3) {
            std::string target = expand_root(w[2], root);
            fs::create_directories(p.parent_path(), ec);
            if (symlink(target.c_str(), p.c_str()) == 0) links.push_back({p, target});
        } else {
            return false;
        }
    }
    return true;
}

/// Does everything status may follow stay inside the root?
bool contained(const fz::Scratch& root, const std::vector<Link>& links) {
    for (auto& l : links) {
        fs::path t = l.target.is_absolute() ? l.target : l.path.parent_path() / l.target;
        if (!root.contains(t)) return false;
    }
    // Manifests name installed files by absolute path: those must be below the root too.
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root.path(), ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename() != manifest_name) continue;
        Manifest m;
        try {
            if (!read_manifest(it->path().parent_path(), m)) continue;
        } catch (const Error&) {
            continue;  // status treats a corrupt manifest as a difference and reads nothing it names
        }
        for (auto& f : m.files)
            if (!f.installed_to.empty() && !root.contains(f.installed_to)) return false;
    }
    return !ec;
}

// The filtered status dkms prints, from the full one: each module/version the filter names, with
// its built rows for the kernel/arch asked, or "added" when it has none (dkms's module_status); a
// broken version keeps its "broken" line and its installed rows for the kernel/arch asked.
std::vector<StatusEntry> filtered(const std::vector<StatusEntry>& all, const StatusFilter& f) {
    std::vector<StatusEntry> want;
    for (size_t i = 0, j; i < all.size(); i = j) {
        const ModuleId& id = all[i].id;
        for (j = i; j < all.size() && all[j].id.name == id.name && all[j].id.version == id.version;) ++j;
        if ((!f.module.empty() && id.name != f.module) || (!f.version.empty() && id.version != f.version)) continue;
        if (all[i].state == "broken") {
            // its line, then the kernels it is still installed on ("installed (Source is missing)")
            want.push_back(all[i]);
            for (size_t k = i + 1; k < j; ++k)
                if ((f.kver.empty() || all[k].target->kver == f.kver) && (f.arch.empty() || all[k].target->arch == f.arch))
                    want.push_back(all[k]);
            continue;
        }
        size_t before = want.size();
        for (size_t k = i; k < j; ++k)
            if (all[k].target && (f.kver.empty() || all[k].target->kver == f.kver) &&
                (f.arch.empty() || all[k].target->arch == f.arch))
                want.push_back(all[k]);
        if (want.size() == before) want.push_back({id, std::nullopt, "added", {}});
    }
    return want;
}

bool same(const StatusEntry& a, const StatusEntry& b) {
    return a.id.name == b.id.name && a.id.version == b.id.version && a.target == b.target && a.state == b.state &&
           a.notes == b.notes;
}

void check_rows(const std::vector<StatusEntry>& rows, const Tree& tree) {
    for (auto& e : rows) {
        const std::string& st = e.state;
        FUZZ_CHECK(st == "added" || st == "built" || st == "installed" || st == "broken", "state " + st);
        FUZZ_CHECK(e.target.has_value() == (st == "built" || st == "installed"), "target of a " + st + " row");
        if (e.target) {
            FUZZ_CHECK(tree.is_built(e.id, *e.target), e.id.str() + " listed but not built");
            FUZZ_CHECK(tree.is_installed(e.id, *e.target) == (st == "installed"), e.id.str() + " installed?");
        }
        if (st == "broken") FUZZ_CHECK(tree.is_broken(e.id), e.id.str() + " listed broken");
        if (st == "added") FUZZ_CHECK(tree.is_added(e.id), e.id.str() + " listed added");
        std::string line = format_status_line(e);
        FUZZ_CHECK(line.rfind(e.id.str(), 0) == 0, "status line " + line);
    }
    for (size_t i = 1; i < rows.size(); ++i)
        FUZZ_CHECK(rows[i - 1].id.name <= rows[i].id.name, "rows not sorted by module");
    std::string json = format_status_json(rows);
    for (unsigned char c : json) FUZZ_CHECK(c >= 0x20 || c == '\n', "raw control character in the JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 16 * 1024) return 0;
    static bool once = [] { return unsetenv("ADDON_MODULES_DIR") == 0; }();
    (void)once;
    fz::Scratch root;
    fs::path r = root.path();
    std::vector<StatusFilter> filters;
    std::vector<Link> links;
    if (!build(fz::as_text(data, size), r, filters, links)) return 0;
    if (!contained(root, links)) return 0;

    NullReporter report;
    Context ctx{Settings{}, report};
    ctx.settings.root = r;
    ctx.settings.dkms_tree = r / "dkms";
    ctx.settings.source_tree = r / "src";
    ctx.settings.install_tree = r / "modules";
    Ops ops(ctx);
    const Tree& tree = ops.tree();

    std::vector<StatusEntry> all = ops.status({});
    check_rows(all, tree);
    for (auto& f : filters) {
        std::vector<StatusEntry> some = ops.status(f);
        check_rows(some, tree);
        // A filter selects among the rows of the unfiltered status (a version with nothing built for
        // the kernel/arch asked is "added" for it).
        std::vector<StatusEntry> want = filtered(all, f);
        FUZZ_CHECK(some.size() == want.size() && std::equal(some.begin(), some.end(), want.begin(), same),
                   "filtered status is not the full status's rows for the filter");
    }
    // The predicates over everything listed, and what autoinstall would look at.
    for (auto& m : tree.modules()) {
        for (auto& v : tree.versions(m)) {
            ModuleId id{m, v};
            for (auto& t : tree.built_targets(id)) {
                std::string iv = tree.installed_version(m, t);
                if (tree.is_installed(id, t)) FUZZ_CHECK(iv == v && tree.is_built(id, t), id.str() + " installed");
            }
            (void)latest_built_version(tree, m, {"6.1.0-9-amd64", "x86_64"});
        }
    }
    (void)ops.kernels_with_headers();
    return 0;
}
