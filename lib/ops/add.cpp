// SPDX-License-Identifier: GPL-2.0-or-later
// add: register a module source in the dkms tree (the "source" symlink).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "dkms/sys/fs.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/sys/process.hpp"

namespace dkms {

void check_identifier(const std::string& what, const std::string& value) {
    std::string why = unsafe_name_reason(value);
    if (why.empty()) return;
    throw Error(ExitCode::Error, {"Invalid " + what + " '" + shown_name(value) + "': it " + why + ".",
                                  "Module names, versions, kernel versions and architectures become directory names "
                                  "and appear in shell commands: each must be one path component of at most " +
                                      std::to_string(max_name_length) +
                                      " bytes, made of letters, digits and . _ + - ~ : , = @ % ^"});
}

void Ops::refuse_planted_links(const ModuleId& id, const Target* t) const {
    fs::path link = tree_.planted_link(id, t);
    if (link.empty()) return;
    std::error_code ec;
    throw Error(ExitCode::Error, {link.string() + " is a symbolic link (to " + fs::read_symlink(link, ec).string() +
                                      "), where the dkms tree has a directory.",
                                  "dkms-run does not write through it. If it was not made on purpose, remove it "
                                  "(rm " + link.string() + ") and run the command again."});
}

void Ops::require_added(const ModuleId& id) const {
    if (tree_.is_broken(id))
        throw Error(ExitCode::ConfMissing, {id.str() + " is broken!",
                                            "Missing the source directory or the symbolic link pointing to it.",
                                            "Manual intervention is required!"});
    if (!tree_.is_added(id))
        throw Error(ExitCode::NotFound, "The module/version combo: " + id.str() + " is not located in the DKMS tree.");
}

ModuleConfig Ops::read_conf(const ModuleId& id, const Target& t, ConfMode mode, const CallOptions& call) const {
    return load_module_config(ctx_, tree_.conf_path(id), ConfTarget{id.name, id.version, t}, mode,
                              ConfCall{call.force, call.jobserver});
}

ModuleId Ops::add_path(const fs::path& arg, const Target& conf_target) {
    fs::path dir = arg;
    if (!dir_exists(dir) && dir.filename().string().size() >= 9 &&
        dir.filename().string().compare(dir.filename().string().size() - 9, 9, "dkms.conf") == 0)
        dir = dir.parent_path();
    if (dir.empty()) dir = ".";
    fs::path conf = ctx_.settings.conf_override ? *ctx_.settings.conf_override : dir / "dkms.conf";
    if (!fs::exists(conf)) throw Error(ExitCode::NoDkmsConf, arg.string() + " must contain a dkms.conf file!");
    if (!ctx_.settings.root.empty() && access(ctx_.settings.source_tree.parent_path().c_str(), W_OK) != 0 &&
        !fs::exists(ctx_.settings.source_tree))
        throw Error(ExitCode::Error, "No write access to the source tree at " + ctx_.settings.source_tree.string());
    // Every check of add, before anything is copied; its notices come once, from add's own read.
    ModuleConfig c = load_module_config(ctx_, fs::absolute(conf), ConfTarget{"", "", conf_target}, ConfMode::Check);
    if (c.package_name.empty() || c.package_version.empty())
        throw Error(ExitCode::BuildFailed, "Malformed dkms.conf file. Cannot load source tree.");
    ModuleId id{c.package_name, c.package_version};
    check_identifier("module name", id.name);
    check_identifier("module version", id.version);
    refuse_planted_links(id, nullptr);   // before the copy into the source tree: add() would refuse anyway
    sweep_once(id.name);
    fs::path target = tree_.source_dir(id);
    std::error_code ec;
    if (fs::equivalent(dir, target, ec)) return id;

    if (dir_exists(target) && ctx_.settings.force) ctx_.report.out("Forcing install of " + id.str());
    fs::create_directories(ctx_.settings.source_tree, ec);
    // Copy into a private directory first; only a complete copy is renamed into place.
    TempDir tmp(ctx_.settings.source_tree, "." + id.name + "-" + id.version + ".tmp-");
    fs::path staged = tmp.path() / "src";
    copy_tree(dir, staged);
    chmod(staged.c_str(), 0755);
    if (path_exists(target)) {
        fs::path old = tmp.path() / "old";
        if (rename(target.c_str(), old.c_str()) != 0) throw SystemError("cannot replace " + target.string(), errno);
    }
    if (rename(staged.c_str(), target.c_str()) != 0) throw SystemError("cannot create " + target.string(), errno);
    return id;
}

int Ops::add(const ModuleId& id, const Target& conf_target, const std::function<void(const fs::path&)>& fill) {
    check_identifier("module name", id.name);
    check_identifier("module version", id.version);
    refuse_planted_links(id, nullptr);
    sweep_once(id.name);
    const Settings& s = ctx_.settings;
    if (tree_.is_added(id))
        throw Error(ExitCode::NotFound, {"DKMS tree already contains: " + id.str(),
                                         "You cannot add the same module/version combo more than once."});
    fs::path src = tree_.source_dir(id);
    if (!dir_exists(src))
        throw Error(ExitCode::Usage, {"Could not find module source directory.", "Directory: " + src.string() + " does not exist."});
    fs::path conf = s.conf_override ? *s.conf_override : src / "dkms.conf";
    ModuleConfig c = load_module_config(ctx_, conf, ConfTarget{id.name, id.version, conf_target}, ConfMode::Strict);

    fs::path vdir = tree_.version_dir(id);
    std::error_code ec;
    fs::create_directories(tree_.module_dir(id.name), ec);
    if (ec) {
        if (ec.value() == EACCES || ec.value() == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + s.dkms_tree.string());
        throw SystemError("cannot create " + tree_.module_dir(id.name).string(), ec.value());
    }
    if (!path_exists(vdir)) {
        // Assemble the version directory under a temporary name and rename it into place: a crash
        // never leaves a version directory without its source link (which status calls broken).
        TempDir staged(tree_.module_dir(id.name), ".tmp_add_");
        fs::create_directories(staged.path() / "build");
        symlink_atomic(src, staged.path() / "source");
        if (fill) fill(staged.path());
        chmod(staged.path().c_str(), 0755);
        ctx_.report.out("Creating symlink " + tree_.source_link(id).string() + " -> " + src.string());
        if (rename(staged.path().c_str(), vdir.c_str()) != 0) throw SystemError("cannot create " + vdir.string(), errno);
        staged.release();
        if (!c.post_add.empty()) {
            try {
                run_script(id, "post_add", c.post_add, tree_.source_link(id), true);
            } catch (const Error& e) {
                return int(e.code());
            }
        }
        return 0;
    }
    fs::create_directories(vdir, ec);
    if (ec) {
        if (ec.value() == EACCES || ec.value() == EROFS)
            throw Error(ExitCode::Error, "No write access to DKMS tree at " + s.dkms_tree.string());
        throw SystemError("cannot create " + vdir.string(), ec.value());
    }
    ctx_.report.out("Creating symlink " + tree_.source_link(id).string() + " -> " + src.string());
    fs::create_directories(tree_.build_dir(id), ec);
    fs::remove(tree_.source_link(id), ec);
    symlink_atomic(src, tree_.source_link(id));
    if (!c.post_add.empty()) {
        try {
            run_script(id, "post_add", c.post_add, tree_.source_link(id), true);
        } catch (const Error& e) {
            return int(e.code());
        }
    }
    return 0;
}

std::pair<fs::path, std::string> Ops::script_command(const ModuleId& id, const std::string& script,
                                                     const fs::path& dir) const {
    size_t b = script.find_first_not_of(" \t\n");
    if (b == std::string::npos) return {};
    size_t e = script.find_first_of(" \t\n", b);
    std::string first = script.substr(b, e == std::string::npos ? std::string::npos : e - b);
    std::string rest = e == std::string::npos ? "" : script.substr(e);
    // The administrator's copy in /etc/dkms/<module>/ wins when it is executable (dkms 3.4.0).
    fs::path over = ctx_.settings.etc_dkms() / id.name / first;
    if (first[0] != '/' && first.find("..") == std::string::npos && fs::is_regular_file(over) &&
        access(over.c_str(), X_OK) == 0)
        return {over, rest};
    return {fs::path(dir.string() + "/" + first), rest};  // dkms: "$dir/$script", whatever the script is
}

void Ops::run_script(const ModuleId& id, const std::string& which, const std::string& script, const fs::path& dir,
                     bool must_succeed) {
    auto [prog, rest] = script_command(id, script, dir);
    if (prog.empty()) return;
    if (access(prog.c_str(), X_OK) != 0) {
        ctx_.report.out("");
        ctx_.report.warning("The " + which + " script is not executable.");
        return;
    }
    // dkms word-splits the directive and execs it from `dir`.
    std::vector<std::string> argv{prog.string()};
    for (size_t i = 0, j; (i = rest.find_first_not_of(" \t\n", i)) != std::string::npos; i = j) {
        j = rest.find_first_of(" \t\n", i);
        argv.push_back(rest.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
    }
    ctx_.report.out("Running the " + which + " script:");
    ProcessSpec p;
    p.argv = argv;
    p.cwd = dir;
    p.out = ProcessSpec::Out::Inherit;
    // dkms waits for ever; a script that hangs would hang apt: it is stopped after script_timeout.
    p.timeout = std::chrono::seconds(ctx_.settings.script_timeout);
    auto r = run_process(ctx_, p);
    if (r.timed_out)
        ctx_.report.warning("The " + which + " script was still running after " +
                            std::to_string(ctx_.settings.script_timeout) +
                            " seconds (script_timeout in framework.conf): it and what it started were stopped.");
    if (!r.ok() && must_succeed) throw Error(ExitCode(r.status), which + " script failed with status " + std::to_string(r.status));
}

}  // namespace dkms
