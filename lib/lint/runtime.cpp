// SPDX-License-Identifier: GPL-2.0-or-later
// What dkms-run would refuse in a dkms.conf, found at package build time: the file is read and
// validated by the runtime's own code (load_module_config, as `dkms-run add` does), against an
// empty root (so the build machine's /etc/dkms plays no part), and its patches are checked as
// `dkms-run build` checks them.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

#include "dkms/conf/dkms_conf.hpp"
#include "dkms/core/error.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/sys/fs.hpp"
#include "internal.hpp"

namespace dkms::lint {

namespace {

/// Keeps the validation messages ("dkms.conf: Error! ...") and drops the rest.
class Collector : public Reporter {
public:
    std::vector<std::string> errors;
    void out(std::string_view) override {}
    void out_partial(std::string_view) override {}
    void err(std::string_view line) override {
        static constexpr std::string_view prefix = "dkms.conf: Error! ";
        if (line.substr(0, prefix.size()) == prefix) errors.emplace_back(line.substr(prefix.size()));
    }
};

/// The line a message names ("...: line 3 ..." or "...: line 3:"), 0 if none.
int line_in(const std::string& msg) {
    static const std::regex re(R"(: line ([0-9]{1,9})\b)");
    std::smatch m;
    return std::regex_search(msg, m, re) ? std::stoi(m[1]) : 0;
}

/// A file next to the real dkms.conf, holding `text`, removed on destruction.
class SiblingFile {
public:
    SiblingFile(const fs::path& dir, const std::string& text) {
        std::string tmpl = (dir / ".dkms.conf.check-XXXXXX").string();
        int fd = mkstemp(tmpl.data());
        if (fd < 0) throw SystemError("cannot create a temporary file in " + dir.string(), errno);
        close(fd);
        path_ = tmpl;
        write_file_atomic(path_, text, 0644);
    }
    ~SiblingFile() {
        std::error_code ec;
        fs::remove(path_, ec);
    }
    SiblingFile(const SiblingFile&) = delete;
    SiblingFile& operator=(const SiblingFile&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

bool has_dotdot(const std::string& p) {
    for (auto& c : fs::path(p))
        if (c == "..") return true;
    return false;
}

std::vector<Finding> check_file(const fs::path& conf, const std::string& label, const fs::path& srcdir) {
    TempDir root(fs::temp_directory_path(), "dkms-run-lint.");
    Settings s;
    s.root = root.path();
    s.dkms_tree = root.path() / "var/lib/dkms";
    s.source_tree = root.path() / "usr/src";
    s.install_tree = root.path() / "lib/modules";
    Collector col;
    Context ctx{s, col};
    std::vector<Finding> out;
    auto refused = [&](const std::string& why) {
        out.push_back(make("rejected-by-dkms-run", label, line_in(why), "dkms-run would refuse it: " + why));
    };
    ModuleConfig c;
    try {
        const ConfTarget t{"", "", Target{running_kernel(), machine_arch()}};
        c = load_module_config(ctx, conf, t, ConfMode::Strict);
    } catch (const Error& e) {
        std::string why = col.errors.empty() ? "" : col.errors.front();
        for (size_t i = 0; col.errors.empty() && i < e.lines().size(); ++i) why += (i ? " " : "") + e.lines()[i];
        // The temporary copy's name means nothing to the reader: name the file as the reader knows it.
        const std::string name = conf.string();
        for (size_t p = 0; (p = why.find(name, p)) != std::string::npos; p += label.size())
            why.replace(p, name.size(), label);
        refused(why);
        return out;
    }
    for (auto& p : c.patches) {
        if (has_dotdot(p))
            refused("PATCH '" + p + "' contains a '..' path component");
        else if (!fs::is_regular_file(srcdir / "patches" / p))
            refused("PATCH '" + p + "' is not in " + (srcdir / "patches").string() + "/");
    }
    return out;
}

}  // namespace

std::vector<Finding> lint_runtime(const std::string& text, const fs::path& srcdir, const std::string& label) {
    SiblingFile copy(srcdir, text);
    return check_file(copy.path(), label, srcdir);
}

std::vector<Finding> lint_runtime_file(const fs::path& conf, const std::string& label) {
    fs::path dir = conf.parent_path().empty() ? fs::path(".") : conf.parent_path();
    return check_file(conf, label, dir);
}

}  // namespace dkms::lint
